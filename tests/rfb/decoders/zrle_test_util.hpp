// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <vector>

#include "rfb/decoders/decoder_test_util.hpp"
#include "rfb/decoders/deflate_test_util.hpp"

// Builders of ZRLE rectangles' wire bytes (shared by the decoder and client connection tests).
namespace vncgate::rfb::test {

// A ZRLE rectangle's wire bytes: u32 length + zlib data of `z`.
inline std::vector<std::uint8_t> zrle_rect(Deflater& z, const std::vector<std::uint8_t>& tiles) {
  const std::vector<std::uint8_t> compressed = z(tiles);
  return Wire{}.u32(static_cast<std::uint32_t>(compressed.size())).raw(compressed).bytes;
}

// Tile data under construction (before compression).
struct Tiles {
  std::vector<std::uint8_t> bytes;
  Tiles& u8(unsigned v) {
    bytes.push_back(static_cast<std::uint8_t>(v));
    return *this;
  }
  Tiles& sub(unsigned subencoding) { return u8(subencoding); }
  // A CPIXEL of the canonical format: its low three bytes, little endian.
  Tiles& cpx(std::uint32_t rgb) { return u8(rgb).u8(rgb >> 8).u8(rgb >> 16); }
  // A run length of n >= 1 (RFC 6143 §7.7.6): n - 1 as bytes of 255 and a final byte below 255.
  Tiles& run(std::size_t n) {
    std::size_t rest = n - 1;
    for (; rest >= 255; rest -= 255) u8(255);
    return u8(static_cast<unsigned>(rest));
  }
};

}  // namespace vncgate::rfb::test
