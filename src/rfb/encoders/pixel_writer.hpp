// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "framebuffer/pixel_buffer.hpp"
#include "rfb/pixel_format.hpp"

namespace vncgate::rfb {

// Turns canonical pixels into a viewer's PIXEL_FORMAT (the inverse of PixelConverter): true colour at 8, 16
// and 32 bpp in both byte orders, and 8 bpp colour-map formats through a fixed 3-3-2 palette that the server
// sends with SetColourMapEntries (colour_map()). The bits of a true-colour PIXEL that carry no colour are sent as
// ones: viewers ignore them (RFC 6143 §7.4), except noVNC 1.3's Raw decoder, which takes the padding byte of a
// 32-bit pixel as canvas alpha where it fails to set it (pixels would be transparent).
class PixelWriter {
 public:
  explicit PixelWriter(const PixelFormat& pf = PixelFormat::canonical());

  const PixelFormat& format() const { return pf_; }
  // The pixel value (host integer) for a canonical pixel.
  std::uint32_t value(framebuffer::Pixel p) const;
  // Appends one PIXEL (bytes_per_pixel bytes, wire byte order).
  void put_pixel(std::vector<std::uint8_t>& out, framebuffer::Pixel p) const;
  // Appends one ZRLE CPIXEL (PixelFormat::cpixel_bytes() bytes).
  void put_cpixel(std::vector<std::uint8_t>& out, framebuffer::Pixel p) const;
  // Appends `n` PIXELs of row-contiguous canonical pixels.
  void put_pixels(std::vector<std::uint8_t>& out, const framebuffer::Pixel* src, std::size_t n) const;

  // For colour-map formats: the 256 entries (16-bit r, g, b) the viewer must be sent.
  static std::array<std::array<std::uint16_t, 3>, 256> colour_map();

 private:
  void put_value(std::vector<std::uint8_t>& out, std::uint32_t v, int bytes) const;

  PixelFormat pf_;
  std::uint32_t padding_ = 0;  // bits of a true-colour pixel value outside the colour fields
  bool cpixel_high_ = false;
};

}  // namespace vncgate::rfb
