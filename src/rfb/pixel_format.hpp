// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "framebuffer/pixel_buffer.hpp"

namespace vncgate::rfb {

using framebuffer::Pixel;

// RFC 6143 §7.4 PIXEL_FORMAT.
struct PixelFormat {
  int bits_per_pixel = 32;
  int depth = 24;
  bool big_endian = false;
  bool true_colour = true;
  int red_max = 255, green_max = 255, blue_max = 255;
  int red_shift = 16, green_shift = 8, blue_shift = 0;

  // 32 bpp little endian 0x00RRGGBB: the framebuffer's own layout, so Raw decoding is a memcpy.
  static PixelFormat canonical() { return {}; }
  static PixelFormat rgb565() { return {16, 16, false, true, 31, 63, 31, 11, 5, 0}; }
  static PixelFormat bgr233() { return {8, 8, false, true, 7, 7, 3, 0, 3, 6}; }
  static PixelFormat colour_map8() { return {8, 8, false, false, 0, 0, 0, 0, 0, 0}; }

  int bytes_per_pixel() const { return bits_per_pixel / 8; }
  // ZRLE's CPIXEL (RFC 6143 §7.7.6): 3 bytes when 32 bpp true colour, depth <= 24 and all colour bits fit in
  // the low or the high three bytes.
  int cpixel_bytes() const;
  // Tight's TPIXEL (rfbproto "Tight"): 3 bytes R,G,B when 32 bpp true colour depth 24 with 8-bit channels.
  bool tight_rgb888() const;

  // Validates a format received from a server; returns an error text or "" when usable.
  std::string validate() const;
  std::string describe() const;
  std::array<std::uint8_t, 16> serialize() const;
  static PixelFormat parse(const std::uint8_t* p16);

  bool operator==(const PixelFormat&) const = default;
};

// Converts wire pixels of a PixelFormat into canonical pixels, through lookup tables for 8/16 bpp and the
// colour map. Not thread-safe while `set_colour_map_entries` runs.
class PixelConverter {
 public:
  explicit PixelConverter(const PixelFormat& pf = PixelFormat::canonical());

  const PixelFormat& format() const { return pf_; }
  void set_format(const PixelFormat& pf);
  // SetColourMapEntries (RFC 6143 §7.6.2): 16-bit colours, reduced to 8 bits.
  void set_colour_map_entries(int first, std::span<const std::array<std::uint16_t, 3>> colours);
  // The colour map as reduced to canonical pixels (saved and restored with an FBS checkpoint).
  const std::array<Pixel, 256>& colour_map() const { return colour_map_; }
  void set_colour_map(const std::array<Pixel, 256>& colours) {
    colour_map_ = colours;
    if (!pf_.true_colour) rebuild();
  }

  // One PIXEL (bytes_per_pixel bytes, wire byte order).
  Pixel pixel(const std::uint8_t* p) const;
  // `n` PIXELs to canonical.
  void convert(const std::uint8_t* src, Pixel* dst, std::size_t n) const;
  // One CPIXEL (cpixel_bytes() bytes).
  Pixel cpixel(const std::uint8_t* p) const;
  void convert_cpixels(const std::uint8_t* src, Pixel* dst, std::size_t n) const;
  // A pixel value (already assembled from the wire into a host integer) to canonical.
  Pixel from_value(std::uint32_t v) const;

 private:
  void rebuild();
  std::uint32_t read_value(const std::uint8_t* p) const;

  PixelFormat pf_;
  int cpixel_bytes_ = 4;
  bool cpixel_high_ = false;  // CPIXEL holds the most significant 3 bytes of the pixel value
  std::array<Pixel, 256> colour_map_{};
  std::vector<Pixel> lut_;                            // value -> canonical, for bpp <= 16
  std::array<std::uint8_t, 256> red_, green_, blue_;  // component scaling when max <= 255
  bool channels8_ = false;
};

}  // namespace vncgate::rfb
