// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "text/font.hpp"

namespace vncgate::text {

// Every glyph of one cell size, keyed by its exact bitmap: a cell reads as a character only when its ink is
// bit for bit a glyph. Besides each glyph as drawn, it holds the forms terminals derive from it: bold
// double-struck (xterm overstrikes one pixel to the right when it has no bold font) and underlined. Blank and
// solid glyphs are left out (a uniform cell reads as a space). When two glyphs share a bitmap (Latin A and
// Greek Alpha), a glyph as drawn beats a derived form, then the lower code point wins.
class GlyphTable {
 public:
  GlyphTable(int width, int height) : width_(width), height_(height) {}

  int width() const { return width_; }
  int height() const { return height_; }
  std::size_t size() const { return map_.size(); }

  // Adds `glyph` (rows of this table's height) and its derived forms; `ascent` is the font's baseline row
  // (-1 unknown) where underlines go.
  void add(const Glyph& glyph, int ascent);

  struct Match {
    char32_t code = 0;           // 0: no glyph
    bool inverse_known = false;  // seal() ran: `inverse` says whether the inverted bitmap is a glyph too
    bool inverse = false;
  };
  // The glyph whose bitmap is `rows` (height() entries) with `key` == hash(rows).
  Match find(const std::uint32_t* rows, std::uint64_t key) const {
    auto it = map_.find(key);
    if (it == map_.end() || !same(it->second, rows)) return {};
    return {it->second.code, sealed_, it->second.inverse};
  }
  // Records for every glyph whether its inverse is a glyph too (▀ and ▄), so a reader needs the second
  // lookup only for those; add() after seal() unseals.
  void seal();
  std::uint64_t hash(const std::uint32_t* rows) const {
    std::uint64_t h = 0x9e3779b97f4a7c15ull;
    for (int y = 0; y < height_; ++y) h = (h ^ rows[y]) * 0xff51afd7ed558ccdull + y;
    return h ^ (h >> 31);
  }

 private:
  struct Entry {
    char32_t code;
    std::uint32_t rank;    // 0 drawn, 1 derived
    std::size_t offset;    // into rows_
    bool inverse = false;  // the inverted bitmap is a glyph too (valid while sealed_)
  };
  bool same(const Entry& e, const std::uint32_t* rows) const {
    for (int y = 0; y < height_; ++y)
      if (rows_[e.offset + y] != rows[y]) return false;
    return true;
  }
  void insert(const std::vector<std::uint32_t>& rows, char32_t code, std::uint32_t rank);

  int width_;
  int height_;
  std::unordered_map<std::uint64_t, Entry> map_;
  std::vector<std::uint32_t> rows_;
  bool sealed_ = false;
};

}  // namespace vncgate::text
