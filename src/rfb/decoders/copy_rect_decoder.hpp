// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "rfb/decoders/decoder.hpp"

namespace vncgate::rfb {

// CopyRect (RFC 6143 §7.7.2): u16 src-x, src-y; the source must lie inside the framebuffer.
class CopyRectDecoder final : public Decoder {
 public:
  bool gather(InBuffer& in, const Rect& r, const PixelFormat& pf, std::vector<std::uint8_t>& payload) override;
  void decode(std::span<const std::uint8_t> payload, const Rect& r, const PixelConverter& conv,
              PixelBuffer& fb) override;
  // The source rectangle of the copy to `r`, checked to lie inside a width x height framebuffer.
  static Rect source(std::span<const std::uint8_t> payload, const Rect& r, int width, int height);
};

}  // namespace vncgate::rfb
