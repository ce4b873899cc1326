// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "rfb/decoders/decoder.hpp"

namespace vncgate::rfb {

// Hextile (RFC 6143 §7.7.4): 16x16 tiles left-to-right, top-to-bottom, each raw or background + subrects;
// background/foreground colours carry over from tile to tile within a rectangle.
class HextileDecoder final : public Decoder {
 public:
  bool gather(InBuffer& in, const Rect& r, const PixelFormat& pf, std::vector<std::uint8_t>& payload) override;
  void decode(std::span<const std::uint8_t> payload, const Rect& r, const PixelConverter& conv,
              PixelBuffer& fb) override;
};

}  // namespace vncgate::rfb
