// SPDX-License-Identifier: Apache-2.0
#include "rfb/pixel_format.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

namespace vncgate::rfb {
namespace {

bool is_mask(int max) { return max > 0 && (max & (max + 1)) == 0; }
int bits(int max) { return max <= 0 ? 0 : 32 - __builtin_clz(static_cast<unsigned>(max)); }

// Expands a component of `max` to 8 bits with rounding (v * 255 / max).
std::uint8_t scale(std::uint32_t v, std::uint32_t max) {
  if (max == 0) return 0;
  if (v > max) v = max;
  return static_cast<std::uint8_t>((v * 255 + max / 2) / max);
}

}  // namespace

int PixelFormat::cpixel_bytes() const {
  if (!true_colour || bits_per_pixel != 32 || depth > 24) return bytes_per_pixel();
  const int top = std::max({red_shift + bits(red_max), green_shift + bits(green_max), blue_shift + bits(blue_max)});
  const int low = std::min({red_shift, green_shift, blue_shift});
  if (top <= 24 || low >= 8) return 3;
  return 4;
}

bool PixelFormat::tight_rgb888() const {
  return true_colour && bits_per_pixel == 32 && depth == 24 && red_max == 255 && green_max == 255 &&
         blue_max == 255;
}

std::string PixelFormat::validate() const {
  if (bits_per_pixel != 8 && bits_per_pixel != 16 && bits_per_pixel != 32)
    return "unsupported bits-per-pixel " + std::to_string(bits_per_pixel) + " (8, 16 or 32)";
  if (depth < 1 || depth > bits_per_pixel) return "depth " + std::to_string(depth) + " does not fit bits-per-pixel";
  if (!true_colour) {
    if (bits_per_pixel != 8) return "colour-map formats are supported at 8 bits-per-pixel only";
    return {};
  }
  for (auto [max, shift] : {std::pair{red_max, red_shift}, {green_max, green_shift}, {blue_max, blue_shift}}) {
    if (!is_mask(max)) return "colour max " + std::to_string(max) + " is not 2^n-1";
    if (shift < 0 || shift + bits(max) > bits_per_pixel) return "colour shift out of range";
  }
  return {};
}

std::string PixelFormat::describe() const {
  std::string s = std::to_string(bits_per_pixel) + "bpp depth " + std::to_string(depth) +
                  (big_endian ? " BE" : " LE");
  if (!true_colour) return s + " colour-map";
  return s + " rgb max " + std::to_string(red_max) + "/" + std::to_string(green_max) + "/" +
         std::to_string(blue_max) + " shift " + std::to_string(red_shift) + "/" + std::to_string(green_shift) +
         "/" + std::to_string(blue_shift);
}

std::array<std::uint8_t, 16> PixelFormat::serialize() const {
  std::array<std::uint8_t, 16> b{};
  b[0] = static_cast<std::uint8_t>(bits_per_pixel);
  b[1] = static_cast<std::uint8_t>(depth);
  b[2] = big_endian;
  b[3] = true_colour;
  b[4] = static_cast<std::uint8_t>(red_max >> 8);
  b[5] = static_cast<std::uint8_t>(red_max);
  b[6] = static_cast<std::uint8_t>(green_max >> 8);
  b[7] = static_cast<std::uint8_t>(green_max);
  b[8] = static_cast<std::uint8_t>(blue_max >> 8);
  b[9] = static_cast<std::uint8_t>(blue_max);
  b[10] = static_cast<std::uint8_t>(red_shift);
  b[11] = static_cast<std::uint8_t>(green_shift);
  b[12] = static_cast<std::uint8_t>(blue_shift);
  return b;
}

PixelFormat PixelFormat::parse(const std::uint8_t* p) {
  PixelFormat f;
  f.bits_per_pixel = p[0];
  f.depth = p[1];
  f.big_endian = p[2] != 0;
  f.true_colour = p[3] != 0;
  f.red_max = (p[4] << 8) | p[5];
  f.green_max = (p[6] << 8) | p[7];
  f.blue_max = (p[8] << 8) | p[9];
  f.red_shift = p[10];
  f.green_shift = p[11];
  f.blue_shift = p[12];
  return f;
}

PixelConverter::PixelConverter(const PixelFormat& pf) { set_format(pf); }

void PixelConverter::set_format(const PixelFormat& pf) {
  pf_ = pf;
  rebuild();
}

void PixelConverter::rebuild() {
  cpixel_bytes_ = pf_.cpixel_bytes();
  cpixel_high_ = false;
  if (cpixel_bytes_ == 3) {
    const int top = std::max({pf_.red_shift + bits(pf_.red_max), pf_.green_shift + bits(pf_.green_max),
                              pf_.blue_shift + bits(pf_.blue_max)});
    cpixel_high_ = top > 24;
  }
  channels8_ = pf_.true_colour && pf_.red_max <= 255 && pf_.green_max <= 255 && pf_.blue_max <= 255;
  if (channels8_) {
    for (std::uint32_t v = 0; v < 256; ++v) {
      red_[v] = scale(v, pf_.red_max);
      green_[v] = scale(v, pf_.green_max);
      blue_[v] = scale(v, pf_.blue_max);
    }
  }
  lut_.clear();
  if (pf_.bits_per_pixel <= 16) {
    lut_.resize(std::size_t{1} << pf_.bits_per_pixel);
    for (std::uint32_t v = 0; v < lut_.size(); ++v) lut_[v] = from_value(v);
  }
}

void PixelConverter::set_colour_map_entries(int first, std::span<const std::array<std::uint16_t, 3>> colours) {
  for (std::size_t i = 0; i < colours.size(); ++i) {
    const auto index = static_cast<std::size_t>(first) + i;
    if (index >= colour_map_.size()) break;  // only 8 bpp colour maps are supported; extra entries are unused
    colour_map_[index] = framebuffer::make_pixel(colours[i][0] >> 8, colours[i][1] >> 8, colours[i][2] >> 8);
  }
  if (!pf_.true_colour) rebuild();
}

Pixel PixelConverter::from_value(std::uint32_t v) const {
  if (!pf_.true_colour) return colour_map_[v & 0xff];
  const std::uint32_t r = (v >> pf_.red_shift) & pf_.red_max;
  const std::uint32_t g = (v >> pf_.green_shift) & pf_.green_max;
  const std::uint32_t b = (v >> pf_.blue_shift) & pf_.blue_max;
  if (channels8_) return framebuffer::make_pixel(red_[r], green_[g], blue_[b]);
  return framebuffer::make_pixel(scale(r, pf_.red_max), scale(g, pf_.green_max), scale(b, pf_.blue_max));
}

std::uint32_t PixelConverter::read_value(const std::uint8_t* p) const {
  switch (pf_.bits_per_pixel) {
    case 8: return p[0];
    case 16: return pf_.big_endian ? (p[0] << 8) | p[1] : (p[1] << 8) | p[0];
    default:
      return pf_.big_endian ? (std::uint32_t{p[0]} << 24) | (p[1] << 16) | (p[2] << 8) | p[3]
                            : (std::uint32_t{p[3]} << 24) | (p[2] << 16) | (p[1] << 8) | p[0];
  }
}

Pixel PixelConverter::pixel(const std::uint8_t* p) const {
  const auto v = read_value(p);
  return lut_.empty() ? from_value(v) : lut_[v];
}

void PixelConverter::convert(const std::uint8_t* src, Pixel* dst, std::size_t n) const {
  if (n == 0) return;  // dst may be null (an empty cursor's pixel vector)
  if (pf_ == PixelFormat::canonical()) {
    std::memcpy(dst, src, n * 4);
    for (std::size_t i = 0; i < n; ++i) dst[i] &= 0x00ffffff;
    return;
  }
  const int bpp = pf_.bytes_per_pixel();
  if (!lut_.empty()) {
    if (bpp == 1) {
      for (std::size_t i = 0; i < n; ++i) dst[i] = lut_[src[i]];
    } else {
      for (std::size_t i = 0; i < n; ++i, src += 2) dst[i] = lut_[pf_.big_endian ? (src[0] << 8) | src[1] : (src[1] << 8) | src[0]];
    }
    return;
  }
  for (std::size_t i = 0; i < n; ++i, src += bpp) dst[i] = from_value(read_value(src));
}

Pixel PixelConverter::cpixel(const std::uint8_t* p) const {
  if (cpixel_bytes_ != 3) return pixel(p);
  // Rebuild the 32-bit value from the 3 bytes that carry colour, in the pixel's byte order.
  std::uint32_t v = pf_.big_endian ? (std::uint32_t{p[0]} << 16) | (p[1] << 8) | p[2]
                                   : (std::uint32_t{p[2]} << 16) | (p[1] << 8) | p[0];
  if (cpixel_high_) v <<= 8;
  return from_value(v);
}

void PixelConverter::convert_cpixels(const std::uint8_t* src, Pixel* dst, std::size_t n) const {
  if (n == 0) return;
  if (cpixel_bytes_ != 3) return convert(src, dst, n);
  if (!pf_.big_endian && !cpixel_high_ && pf_ == PixelFormat::canonical()) {
    for (std::size_t i = 0; i < n; ++i, src += 3) dst[i] = (std::uint32_t{src[2]} << 16) | (src[1] << 8) | src[0];
    return;
  }
  for (std::size_t i = 0; i < n; ++i, src += 3) dst[i] = cpixel(src);
}

}  // namespace vncgate::rfb
