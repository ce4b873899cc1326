// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the grid finder and cell matcher (src/text) on random framebuffers, against the
// installed fonts: bytes 0-1 width and height (1..96 and 1..64), bytes 2-13 four colours, then two bits a
// pixel; the same bytes once more as a second frame with a damage rectangle from the last four bytes, read
// incrementally; and the second read whole, then the first compared with it (update(fb, before): rows that
// moved are taken from where they were), whose text must equal a fresh reading of the first frame. Checked: no crash,
// no read outside the picture (ASan), rows and counts consistent.
#include <cstdint>
#include <cstdlib>

#include "framebuffer/pixel_buffer.hpp"
#include "text/text_screen.hpp"

namespace {

using vncgate::framebuffer::Pixel;
using vncgate::framebuffer::PixelBuffer;

PixelBuffer frame(const std::uint8_t* data, std::size_t size, int width, int height, std::size_t shift) {
  auto byte = [&](std::size_t i) -> unsigned { return i < size ? data[i] : 0; };
  Pixel palette[4];
  for (int i = 0; i < 4; ++i)
    palette[i] = vncgate::framebuffer::make_pixel(byte(2 + i * 3), byte(3 + i * 3), byte(4 + i * 3));
  PixelBuffer fb(width, height);
  const std::size_t bits = size > 14 ? (size - 14) * 8 : 0;
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      const std::size_t bit = bits ? ((std::size_t(y) * width + x) * 2 + shift) % bits : 0;
      fb.row(y)[x] = bits ? palette[(data[14 + bit / 8] >> (bit % 8)) & 3] : palette[0];
    }
  return fb;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const int width = 1 + data[0] % 96, height = 1 + data[1] % 64;
  static const auto library = vncgate::text::GlyphLibrary::installed();
  vncgate::text::TextScreen screen(library);
  const PixelBuffer first = frame(data, size, width, height, 0);
  screen.update(first);
  const PixelBuffer second = frame(data, size, width, height, 2);
  vncgate::framebuffer::Rect damage{0, 0, width, height};
  if (size >= 4)
    damage = vncgate::framebuffer::Rect{data[size - 4] % width, data[size - 3] % height, 1 + data[size - 2] % width,
                                        1 + data[size - 1] % height}
                 .intersect(second.bounds());
  const auto changed = screen.update(second, vncgate::framebuffer::Damage(damage));
  for (int r : changed)
    if (r < 0) std::abort();
  if (screen.glyph_cells() < 0 || screen.unreadable_cells() < 0 ||
      screen.glyph_cells() + screen.unreadable_cells() > screen.columns() * screen.rows())
    std::abort();
  (void)screen.text();
  // The second picture read whole, then the first by comparison with it (update(fb, before): rows that moved
  // are taken from where they were): the same text as reading the first afresh, when the grid is the same.
  vncgate::text::TextScreen compared(library);
  compared.update(second);
  const auto background = compared.grid() ? compared.grid()->background : 0;
  const auto again = compared.update(first, second);
  for (int r : again)
    if (r < 0) std::abort();
  vncgate::text::TextScreen fresh(library);
  fresh.update(first);
  if (compared.grid() && fresh.grid() && compared.grid()->same_cells(*fresh.grid()) &&
      compared.grid()->background == fresh.grid()->background && background == fresh.grid()->background &&
      compared.lines() != fresh.lines())
    std::abort();
  return 0;
}
