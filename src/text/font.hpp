// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vncgate::text {

// Limits for font files: a console or X font has at most a few thousand glyphs of at most 32 pixels a side.
constexpr int kMaxGlyphWidth = 32;
constexpr int kMaxGlyphHeight = 64;
constexpr std::size_t kMaxGlyphs = 65536;

// One character's bitmap in a cell of the font's size: rows[y] bit x set = ink at column x (LSB = leftmost).
struct Glyph {
  char32_t code = 0;
  std::vector<std::uint32_t> rows;
};

// A fixed-cell bitmap font as a console draws it: every glyph fills a width x height cell. `ascent` is the
// baseline row (pixels above it), -1 when the format has none (PSF, VGA); underline variants are placed from it.
struct Font {
  std::string name;
  int width = 0;
  int height = 0;
  int ascent = -1;
  std::vector<Glyph> glyphs;
};

}  // namespace vncgate::text
