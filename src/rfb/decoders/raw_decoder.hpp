// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "rfb/decoders/decoder.hpp"

namespace vncgate::rfb {

// Raw (RFC 6143 §7.7.1): w*h PIXELs, row by row.
class RawDecoder final : public Decoder {
 public:
  bool gather(InBuffer& in, const Rect& r, const PixelFormat& pf, std::vector<std::uint8_t>& payload) override;
  void decode(std::span<const std::uint8_t> payload, const Rect& r, const PixelConverter& conv,
              PixelBuffer& fb) override;
};

// Shared by Raw and Zlib: converts w*h wire pixels (rows packed) into rect r.
void put_wire_pixels(const std::uint8_t* src, const Rect& r, const PixelConverter& conv, PixelBuffer& fb);

// Appends exactly n bytes from `in` to `payload` if available.
bool gather_bytes(InBuffer& in, std::size_t n, std::vector<std::uint8_t>& payload);

// Payload size of w*h pixels of `bytes_per_pixel`, checked against overflow and kMaxPayload.
std::size_t pixel_bytes(const Rect& r, int bytes_per_pixel);

}  // namespace vncgate::rfb
