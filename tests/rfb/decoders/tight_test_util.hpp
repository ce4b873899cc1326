// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <initializer_list>
#include <vector>

#include "rfb/decoders/decoder_test_util.hpp"
#include "rfb/decoders/deflate_test_util.hpp"

// Builders of Tight rectangles' wire bytes (shared by the decoder and client connection tests).
namespace vncgate::rfb::test {

using Bytes = std::vector<std::uint8_t>;

inline void put_compact(Wire& w, std::size_t n) {
  if (n < 0x80) {
    w.u8(static_cast<unsigned>(n));
  } else if (n < 0x4000) {
    w.u8(0x80 | (n & 0x7f)).u8(static_cast<unsigned>(n >> 7));
  } else {
    w.u8(0x80 | (n & 0x7f)).u8(0x80 | ((n >> 7) & 0x7f)).u8(static_cast<unsigned>(n >> 14));
  }
}

// Filter input as Tight sends it: as is under 12 bytes, else compact length + zlib data of stream `z`.
inline void put_data(Wire& w, const Bytes& data, Deflater& z) {
  if (data.size() < 12) {
    w.raw(data);
    return;
  }
  const Bytes compressed = z(data);
  put_compact(w, compressed.size());
  w.raw(compressed);
}

// A basic-compression rectangle: control byte, `header` (filter id, palette), filter input.
inline Bytes basic_rect(unsigned control, const Bytes& data, Deflater& z, const Bytes& header = {}) {
  Wire w;
  w.u8(control).raw(header);
  put_data(w, data, z);
  return w.bytes;
}

// 24-bit TPIXELs: R, G, B bytes per 0xRRGGBB value.
inline Bytes rgb(std::initializer_list<std::uint32_t> pixels) {
  Bytes b;
  for (auto p : pixels)
    for (int shift : {16, 8, 0}) b.push_back(static_cast<std::uint8_t>(p >> shift));
  return b;
}

}  // namespace vncgate::rfb::test
