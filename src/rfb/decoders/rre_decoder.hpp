// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "rfb/decoders/decoder.hpp"

namespace vncgate::rfb {

// RRE (RFC 6143 §7.7.3): u32 count, background PIXEL, count x {PIXEL, u16 x, y, w, h} relative to the rect.
class RreDecoder final : public Decoder {
 public:
  bool gather(InBuffer& in, const Rect& r, const PixelFormat& pf, std::vector<std::uint8_t>& payload) override;
  void decode(std::span<const std::uint8_t> payload, const Rect& r, const PixelConverter& conv,
              PixelBuffer& fb) override;
};

}  // namespace vncgate::rfb
