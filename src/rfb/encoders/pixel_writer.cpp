// SPDX-License-Identifier: Apache-2.0
#include "rfb/encoders/pixel_writer.hpp"

#include <algorithm>
#include <cstring>

namespace vncgate::rfb {
namespace {

int bits(int max) { return max <= 0 ? 0 : 32 - __builtin_clz(static_cast<unsigned>(max)); }

// 8-bit component to `max` with rounding: the nearest level, so the viewer's expansion comes back closest.
std::uint32_t reduce(unsigned c, int max) { return (c * static_cast<unsigned>(max) + 127) / 255; }

}  // namespace

PixelWriter::PixelWriter(const PixelFormat& pf) : pf_(pf) {
  if (pf_.true_colour) {
    const std::uint32_t all = pf_.bits_per_pixel >= 32 ? 0xffffffffu : (1u << pf_.bits_per_pixel) - 1;
    const std::uint32_t colour = (static_cast<std::uint32_t>(pf_.red_max) << pf_.red_shift) |
                                 (static_cast<std::uint32_t>(pf_.green_max) << pf_.green_shift) |
                                 (static_cast<std::uint32_t>(pf_.blue_max) << pf_.blue_shift);
    padding_ = all & ~colour;
  }
  if (pf_.cpixel_bytes() == 3) {
    const int top = std::max({pf_.red_shift + bits(pf_.red_max), pf_.green_shift + bits(pf_.green_max),
                              pf_.blue_shift + bits(pf_.blue_max)});
    cpixel_high_ = top > 24;
  }
}

std::array<std::array<std::uint16_t, 3>, 256> PixelWriter::colour_map() {
  std::array<std::array<std::uint16_t, 3>, 256> map{};
  for (unsigned i = 0; i < 256; ++i) {
    const unsigned r = i >> 5, g = (i >> 2) & 7, b = i & 3;
    map[i] = {static_cast<std::uint16_t>(r * 0xffff / 7), static_cast<std::uint16_t>(g * 0xffff / 7),
              static_cast<std::uint16_t>(b * 0xffff / 3)};
  }
  return map;
}

std::uint32_t PixelWriter::value(framebuffer::Pixel p) const {
  const unsigned r = framebuffer::red(p), g = framebuffer::green(p), b = framebuffer::blue(p);
  if (!pf_.true_colour) return (reduce(r, 7) << 5) | (reduce(g, 7) << 2) | reduce(b, 3);
  return (reduce(r, pf_.red_max) << pf_.red_shift) | (reduce(g, pf_.green_max) << pf_.green_shift) |
         (reduce(b, pf_.blue_max) << pf_.blue_shift) | padding_;
}

void PixelWriter::put_value(std::vector<std::uint8_t>& out, std::uint32_t v, int bytes) const {
  for (int i = 0; i < bytes; ++i) {
    const int shift = pf_.big_endian ? 8 * (bytes - 1 - i) : 8 * i;
    out.push_back(static_cast<std::uint8_t>(v >> shift));
  }
}

void PixelWriter::put_pixel(std::vector<std::uint8_t>& out, framebuffer::Pixel p) const {
  put_value(out, value(p), pf_.bytes_per_pixel());
}

void PixelWriter::put_cpixel(std::vector<std::uint8_t>& out, framebuffer::Pixel p) const {
  if (pf_.cpixel_bytes() != 3) return put_pixel(out, p);
  const std::uint32_t v = value(p);
  put_value(out, cpixel_high_ ? v >> 8 : v, 3);
}

void PixelWriter::put_pixels(std::vector<std::uint8_t>& out, const framebuffer::Pixel* src, std::size_t n) const {
  if (pf_ == PixelFormat::canonical()) {  // the framebuffer's own layout on little-endian hosts
    const std::size_t at = out.size();
    out.resize(at + n * 4);
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint32_t v = src[i] | padding_;
      std::memcpy(out.data() + at + i * 4, &v, 4);
    }
    return;
  }
  for (std::size_t i = 0; i < n; ++i) put_pixel(out, src[i]);
}

}  // namespace vncgate::rfb
