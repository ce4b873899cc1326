// SPDX-License-Identifier: Apache-2.0
#include "text/glyph_table.hpp"

#include <algorithm>

#include "text/glyph_bits.hpp"

namespace vncgate::text {
namespace {

// Derived forms only for the characters consoles style (Latin, box drawing, blocks): bounds memory for
// large Unicode fonts.
bool styled(char32_t c) { return c < 0x250 || (c >= 0x2500 && c < 0x25a0); }

}  // namespace

void GlyphTable::insert(const std::vector<std::uint32_t>& rows, char32_t code, std::uint32_t rank) {
  const std::uint32_t full = row_mask(width_);
  const bool blank = std::all_of(rows.begin(), rows.end(), [](std::uint32_t r) { return r == 0; });
  const bool solid = std::all_of(rows.begin(), rows.end(), [full](std::uint32_t r) { return r == full; });
  if (blank || solid) return;
  const std::uint64_t key = hash(rows.data());
  auto it = map_.find(key);
  if (it == map_.end()) {
    map_.emplace(key, Entry{code, rank, rows_.size()});
    rows_.insert(rows_.end(), rows.begin(), rows.end());
    return;
  }
  Entry& e = it->second;
  // A different bitmap with the same 64-bit key keeps the first (never seen in the installed fonts).
  if (!same(e, rows.data())) return;
  if (rank < e.rank || (rank == e.rank && code < e.code)) {
    e.code = code;
    e.rank = rank;
  }
}

void GlyphTable::seal() {
  const std::uint32_t full = row_mask(width_);
  std::vector<std::uint32_t> inverse(height_);
  for (auto& [key, e] : map_) {
    for (int y = 0; y < height_; ++y) inverse[y] = rows_[e.offset + y] ^ full;
    e.inverse = find(inverse.data(), hash(inverse.data())).code != 0;
  }
  sealed_ = true;
}

void GlyphTable::add(const Glyph& glyph, int ascent) {
  if (static_cast<int>(glyph.rows.size()) != height_) return;
  sealed_ = false;
  const std::uint32_t full = row_mask(width_);
  insert(glyph.rows, glyph.code, 0);
  if (!styled(glyph.code)) return;
  std::vector<std::uint32_t> bold(glyph.rows);
  for (auto& r : bold) r = (r | (r << 1)) & full;
  insert(bold, glyph.code, 1);
  // Underline rows: just below the baseline (xterm) or the last two rows (fbcon's mono underline).
  std::vector<int> lines{height_ - 1, height_ - 2};
  if (ascent >= 0) lines = {ascent, ascent + 1, height_ - 1};
  for (int line : lines) {
    if (line < 0 || line >= height_) continue;
    const std::vector<std::uint32_t>* bases[] = {&glyph.rows, &bold};
    for (const auto* base : bases) {
      std::vector<std::uint32_t> under(*base);
      under[line] = full;
      insert(under, glyph.code, 1);
    }
  }
}

}  // namespace vncgate::text
