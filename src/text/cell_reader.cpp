// SPDX-License-Identifier: Apache-2.0
#include "text/cell_reader.hpp"

#include <bit>

#include "text/glyph_bits.hpp"

namespace vncgate::text {

Cell read_cell(const framebuffer::PixelBuffer& fb, int x, int y, const GlyphTable& table,
               framebuffer::Pixel background) {
  const int w = table.width(), h = table.height();
  std::uint32_t rows[kMaxGlyphHeight];
  const framebuffer::Pixel c0 = fb.row(y)[x];
  framebuffer::Pixel c1 = c0;
  bool two = false;
  int ink = 0;
  for (int dy = 0; dy < h; ++dy) {
    const framebuffer::Pixel* p = fb.row(y + dy) + x;
    std::uint32_t bits = 0;
    for (int dx = 0; dx < w; ++dx) {
      const framebuffer::Pixel v = p[dx];
      if (v == c0) continue;
      if (!two) {
        c1 = v;
        two = true;
      } else if (v != c1) {
        return {kUnreadable, CellKind::unreadable};
      }
      bits |= std::uint32_t{1} << dx;
    }
    rows[dy] = bits;
    ink += std::popcount(bits);
  }
  if (!two) return {};
  // rows: c1 as ink; inverse: c0 as ink.
  const GlyphTable::Match drawn = table.find(rows, table.hash(rows));
  // The usual cell: ink on the background, or a glyph whose inverse is no glyph (one lookup).
  if (drawn.code && (c0 == background || (drawn.inverse_known && !drawn.inverse))) return {drawn.code, CellKind::glyph};
  std::uint32_t inverse[kMaxGlyphHeight];
  const std::uint32_t full = row_mask(w);
  for (int dy = 0; dy < h; ++dy) inverse[dy] = rows[dy] ^ full;
  const char32_t as_drawn = drawn.code, as_inverse = table.find(inverse, table.hash(inverse)).code;
  if (as_drawn && as_inverse) {
    const bool drawn_wins = c0 == background || (c1 != background && ink * 2 <= w * h);
    return {drawn_wins ? as_drawn : as_inverse, CellKind::glyph};
  }
  if (as_drawn) return {as_drawn, CellKind::glyph};
  if (as_inverse) return {as_inverse, CellKind::glyph};
  // xterm overstrikes bold one pixel to the right when the font has no bold face; a glyph inked in its last
  // column spills into the next cell's first. Ink there that continues the left neighbour's is taken away.
  if (x > 0) {
    bool spilled = false;
    for (int dy = 0; dy < h; ++dy)
      if ((rows[dy] & 1) && fb.row(y + dy)[x - 1] == c1) {
        rows[dy] &= ~std::uint32_t{1};
        spilled = true;
      }
    if (spilled)
      if (const char32_t c = table.find(rows, table.hash(rows)).code) return {c, CellKind::glyph};
  }
  return {kUnreadable, CellKind::unreadable};
}

}  // namespace vncgate::text
