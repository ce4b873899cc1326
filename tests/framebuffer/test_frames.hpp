// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "framebuffer/pixel_buffer.hpp"

// Deterministic pictures for tests and benchmarks (bench/ includes tests/ for these).
namespace vncgate::framebuffer::test {

inline std::uint32_t next_random(std::uint32_t& seed) {
  seed = seed * 1664525u + 1013904223u;
  return seed >> 8;
}

// A text console: 8x16 cells drawn from a 96-glyph font (text repeats its letters, which compressors see),
// grey or green ink on black, lines of random length, a blue status bar at the bottom.
inline PixelBuffer text_console(int width, int height, std::uint32_t seed = 1) {
  std::uint32_t font[96];
  std::uint32_t font_seed = 42;
  for (auto& glyph : font) glyph = next_random(font_seed);
  PixelBuffer fb(width, height);
  for (int cy = 0; cy + 16 <= height; cy += 16) {
    const int line_end = static_cast<int>(next_random(seed) % static_cast<std::uint32_t>(width / 8 + 1)) * 8;
    const Pixel ink = cy % 80 == 0 ? make_pixel(0x55, 0xff, 0x55) : make_pixel(0xaa, 0xaa, 0xaa);
    for (int cx = 0; cx + 8 <= line_end; cx += 8) {
      const std::uint32_t pick = next_random(seed);
      if (pick % 6 == 0) continue;  // a space
      const std::uint32_t glyph = font[pick % 96];
      for (int y = 3; y < 13; ++y)
        for (int x = 0; x < 7; ++x)
          if ((glyph >> ((x + y * 3) % 24)) & 1) fb.row(cy + y)[cx + x] = ink;
    }
  }
  if (height >= 16) fb.fill({0, height - 16, width, 16}, make_pixel(0, 0, 0xaa));
  return fb;
}

// The picture as a plain vector, rows in order, for comparing against a reference.
inline std::vector<Pixel> picture_of(const PixelBuffer& fb) {
  std::vector<Pixel> out;
  for (int y = 0; y < fb.height(); ++y) out.insert(out.end(), fb.row(y), fb.row(y) + fb.width());
  return out;
}

// A CopyRect done pixel by pixel on a plain picture `width` wide (all of `src` read before anything is written).
inline void reference_copy(std::vector<Pixel>& px, int width, const Rect& src, int dst_x, int dst_y) {
  std::vector<Pixel> area;
  for (int y = 0; y < src.h; ++y)
    for (int x = 0; x < src.w; ++x) area.push_back(px[std::size_t(src.y + y) * width + src.x + x]);
  for (int y = 0; y < src.h; ++y)
    for (int x = 0; x < src.w; ++x) px[std::size_t(dst_y + y) * width + dst_x + x] = area[std::size_t(y) * src.w + x];
}

// Every pixel random: incompressible, the worst case for compact().
inline PixelBuffer noise(int width, int height, std::uint32_t seed = 7) {
  PixelBuffer fb(width, height);
  for (auto& p : fb.pixels()) p = next_random(seed) & 0xffffff;
  return fb;
}

// `sharp` with each pixel blended with its neighbours (1 2 1): the gradients an anti-aliased terminal draws
// (a third colour at every edge).
inline PixelBuffer blend(const PixelBuffer& sharp) {
  PixelBuffer out(sharp.width(), sharp.height());
  for (int y = 0; y < sharp.height(); ++y)
    for (int x = 0; x < sharp.width(); ++x) {
      const auto at = [&](int dx, int shift) {
        return (sharp.row(y)[std::clamp(x + dx, 0, sharp.width() - 1)] >> shift) & 0xff;
      };
      Pixel p = 0;
      for (int shift = 0; shift < 24; shift += 8) p |= (at(-1, shift) + 2 * at(0, shift) + at(1, shift)) / 4 << shift;
      out.row(y)[x] = p;
    }
  return out;
}

}  // namespace vncgate::framebuffer::test
