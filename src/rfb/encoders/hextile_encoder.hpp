// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "framebuffer/pixel_buffer.hpp"
#include "rfb/encoders/pixel_writer.hpp"

namespace vncgate::rfb {

// Hextile (RFC 6143 §7.7.4) for viewers that offer neither Tight nor ZRLE: 16x16 tiles sent as background
// only (solid), background + foreground subrectangles (two colours) or raw, whichever is smaller.
class HextileEncoder {
 public:
  // Appends the rectangle's payload for `r` of `fb` (which it must lie inside) in `writer`'s format.
  void encode(const framebuffer::PixelBuffer& fb, const framebuffer::Rect& r, const PixelWriter& writer,
              std::vector<std::uint8_t>& out);

 private:
  void encode_tile(const framebuffer::PixelBuffer& fb, const framebuffer::Rect& t, const PixelWriter& writer,
                   std::vector<std::uint8_t>& out);
  // Subrectangles covering the pixels of `t` that are not `bg` (all of one colour); false when they would
  // take at least `budget` bytes.
  bool find_subrects(const framebuffer::PixelBuffer& fb, const framebuffer::Rect& t, framebuffer::Pixel bg,
                     std::size_t budget);

  std::optional<std::uint32_t> background_;  // wire value the viewer keeps from the previous tile
  std::vector<std::uint8_t> subrects_;
};

}  // namespace vncgate::rfb
