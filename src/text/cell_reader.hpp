// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>

#include "framebuffer/pixel_buffer.hpp"
#include "text/glyph_table.hpp"

namespace vncgate::text {

constexpr char32_t kUnreadable = 0xfffd;

enum class CellKind : std::uint8_t { blank, glyph, unreadable };

struct Cell {
  char32_t code = U' ';
  CellKind kind = CellKind::blank;
};

// Reads the cell of `table`'s size whose top-left pixel is (x, y) (inside `fb`): one colour is a blank
// (a space); two colours are a glyph when either colour's pixels are exactly a glyph of the table (any
// foreground and background, inverse video included); anything else — a third colour (anti-aliasing, a
// picture), or ink that is no glyph — is unreadable (U+FFFD), never a guess. When both colours form a glyph
// (▀ and ▄), the reading that has `background` as its background wins, else the one with less ink.
Cell read_cell(const framebuffer::PixelBuffer& fb, int x, int y, const GlyphTable& table,
               framebuffer::Pixel background);

}  // namespace vncgate::text
