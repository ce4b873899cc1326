// SPDX-License-Identifier: Apache-2.0
#include "text/text_screen.hpp"

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "framebuffer/difference.hpp"
#include "text/grid_finder.hpp"
#include "text/utf8.hpp"

namespace vncgate::text {

namespace {

// A fingerprint of text row `row`'s pixels (the grid's width): four pixel rows of the cells, in four
// independent multiply-xor lanes over 64-bit words. Only a hint of where a row came from: the candidate is
// confirmed by comparing all its pixels.
std::uint64_t row_print(const framebuffer::PixelBuffer& fb, const Grid& g, int row) {
  constexpr std::uint64_t k = 0x9e3779b97f4a7c15ull;
  std::uint64_t lane[4] = {1, 2, 3, 4};
  const std::size_t bytes = std::size_t(g.columns) * g.cell_width() * sizeof(framebuffer::Pixel);
  const int h = g.cell_height();
  for (int sample = 0; sample < 4; ++sample) {
    const int y = std::min(h - 1, 1 + sample * std::max(1, h - 2) / 3);
    const auto* p = reinterpret_cast<const unsigned char*>(fb.row(g.y + row * h + y) + g.x);
    std::size_t i = 0;
    for (; i + 32 <= bytes; i += 32)
      for (int l = 0; l < 4; ++l) {
        std::uint64_t w;
        std::memcpy(&w, p + i + l * 8, 8);
        lane[l] = (lane[l] ^ w) * k;
      }
    for (; i + 4 <= bytes; i += 4) {
      std::uint32_t w;
      std::memcpy(&w, p + i, 4);
      lane[0] = (lane[0] ^ w) * k;
    }
  }
  return (lane[0] ^ (lane[1] >> 7) ^ (lane[2] << 11) ^ (lane[3] >> 29)) * k;
}

// The pixels of `area` (x, w) across text row `row` of `a` equal those of text row `other` of `b`.
bool same_pixels(const framebuffer::PixelBuffer& a, int row, const framebuffer::PixelBuffer& b, int other,
                 const Grid& g, int x, int w) {
  const std::size_t bytes = std::size_t(w) * sizeof(framebuffer::Pixel);
  for (int y = 0; y < g.cell_height(); ++y)
    if (std::memcmp(a.row(g.y + row * g.cell_height() + y) + x, b.row(g.y + other * g.cell_height() + y) + x, bytes) !=
        0)
      return false;
  return true;
}

// About how many pixels differ between `a` and `b` (same size): every 4th row compared in 64-pixel blocks.
// Enough to tell when a screen without a grid has changed enough to search it again, at a quarter of the
// memory traffic of the exact difference.
long long sampled_changed_area(const framebuffer::PixelBuffer& a, const framebuffer::PixelBuffer& b) {
  constexpr int kRows = 4, kBlock = 64;
  long long changed = 0;
  for (int y = 0; y < a.height(); y += kRows)
    for (int x = 0; x < a.width(); x += kBlock) {
      const int w = std::min(kBlock, a.width() - x);
      if (std::memcmp(a.row(y) + x, b.row(y) + x, std::size_t(w) * sizeof(framebuffer::Pixel)) != 0)
        changed += static_cast<long long>(w) * kRows;
    }
  return changed;
}

}  // namespace

TextScreen::TextScreen(std::shared_ptr<const GlyphLibrary> library) : library_(std::move(library)) {}

bool TextScreen::is_text() const { return grid_ && glyphs_ > 0 && unreadable_ * 2 <= glyphs_; }

void TextScreen::count(CellKind kind, int delta) {
  if (kind == CellKind::glyph) glyphs_ += delta;
  if (kind == CellKind::unreadable) unreadable_ += delta;
}

// Searches for the grid; true when it differs from the current one (cells reset to blank, rows to redo).
bool TextScreen::adopt_grid(const framebuffer::PixelBuffer& fb) {
  ++searches_;
  damage_since_search_ = 0;
  auto found = find_grid(fb, *library_);
  if (found && grid_ && found->same_cells(*grid_)) {
    grid_->background = found->background;
    return false;
  }
  if (!found && !grid_) return false;
  grid_ = found;
  const std::size_t n = grid_ ? std::size_t(grid_->columns) * grid_->rows : 0;
  codes_.assign(n, U' ');
  kinds_.assign(n, CellKind::blank);
  glyphs_ = unreadable_ = 0;
  return true;
}

void TextScreen::read_cells(const framebuffer::PixelBuffer& fb, const framebuffer::Rect& area,
                            std::vector<char>& changed) {
  const Grid& g = *grid_;
  const int w = g.cell_width(), h = g.cell_height();
  const framebuffer::Rect r = area.intersect({g.x, g.y, g.columns * w, g.rows * h});
  if (r.empty()) return;
  const int c0 = (r.x - g.x) / w, c1 = (r.right() - 1 - g.x) / w;
  const int r0 = (r.y - g.y) / h, r1 = (r.bottom() - 1 - g.y) / h;
  for (int row = r0; row <= r1; ++row)
    for (int col = c0; col <= c1; ++col) {
      const std::size_t i = std::size_t(row) * g.columns + col;
      const Cell c = read_cell(fb, g.x + col * w, g.y + row * h, *g.table, g.background);
      ++cells_read_;
      if (c.code == codes_[i] && c.kind == kinds_[i]) continue;
      count(kinds_[i], -1);
      count(c.kind, 1);
      codes_[i] = c.code;
      kinds_[i] = c.kind;
      changed[row] = 1;
    }
}

void TextScreen::print_all_rows(const framebuffer::PixelBuffer& fb) {
  prints_.assign(rows(), 0);
  for (int r = 0; r < rows(); ++r) prints_[r] = row_print(fb, *grid_, r);
}

void TextScreen::compare_rows(const framebuffer::PixelBuffer& fb, const framebuffer::PixelBuffer& before,
                              std::vector<char>& changed) {
  const Grid& g = *grid_;
  const int w = g.cell_width(), width = g.columns * w;
  const auto old_prints = prints_;
  const auto old_codes = codes_;
  const auto old_kinds = kinds_;
  std::unordered_map<std::uint64_t, int> rows_before;  // built when a row is not where it was
  for (int row = 0; row < rows(); ++row) {
    if (same_pixels(fb, row, before, row, g, g.x, width)) continue;  // most rows: stops at the first change
    prints_[row] = row_print(fb, g, row);
    if (rows_before.empty())
      for (int r = 0; r < rows(); ++r) rows_before.emplace(old_prints[r], r);
    const auto found = rows_before.find(prints_[row]);
    if (found != rows_before.end() && same_pixels(fb, row, before, found->second, g, g.x, width)) {
      const std::size_t to = std::size_t(row) * g.columns, from = std::size_t(found->second) * g.columns;
      for (int c = 0; c < g.columns; ++c) {
        if (codes_[to + c] == old_codes[from + c] && kinds_[to + c] == old_kinds[from + c]) continue;
        count(kinds_[to + c], -1);
        count(old_kinds[from + c], 1);
        codes_[to + c] = old_codes[from + c];
        kinds_[to + c] = old_kinds[from + c];
        changed[row] = 1;
      }
      continue;
    }
    // Not a row that moved: read the cells that differ from the same place before (the rest keep their text).
    for (int c = 0; c < g.columns; ++c)
      if (!same_pixels(fb, row, before, row, g, g.x + c * w, w))
        read_cells(fb, {g.x + c * w, g.y + row * g.cell_height(), w, g.cell_height()}, changed);
  }
}

// A screen without a grid is searched again once a quarter of it changed since the last search: a desktop
// is not searched at every frame.
bool TextScreen::search_due(long long changed) {
  damage_since_search_ += changed;
  return searches_ == 0 || damage_since_search_ * 4 >= static_cast<long long>(width_) * height_;
}

std::vector<int> TextScreen::update(const framebuffer::PixelBuffer& fb, const framebuffer::PixelBuffer& before) {
  // No grid: how much changed decides whether to search, and an estimate of it will do.
  if (!grid_ && searches_ > 0 && fb.width() == width_ && fb.height() == height_ && before.width() == width_ &&
      before.height() == height_)
    return search_due(sampled_changed_area(before, fb)) ? search_and_read(fb, 0) : std::vector<int>{};
  if (!grid_ || fb.width() != width_ || fb.height() != height_ || before.width() != fb.width() ||
      before.height() != fb.height() || static_cast<int>(prints_.size()) != rows())
    return update(fb, framebuffer::difference(before, fb));
  std::vector<char> changed(rows(), 0);
  compare_rows(fb, before, changed);
  return after_reading(fb, changed, rows());
}

std::vector<int> TextScreen::after_reading(const framebuffer::PixelBuffer& fb, std::vector<char>& changed,
                                           int old_rows) {
  // Most inked cells no longer read: the font or the mode changed.
  bool all = false;
  if (unreadable_ > 4 && unreadable_ * 2 > glyphs_ && adopt_grid(fb)) {
    all = true;
    changed.assign(rows(), 0);
    if (grid_) {
      read_cells(fb, fb.bounds(), changed);
      print_all_rows(fb);
    }
  }
  std::vector<int> out;
  if (all) {
    for (int r = 0; r < std::max(old_rows, rows()); ++r) out.push_back(r);
    return out;
  }
  for (int r = 0; r < rows(); ++r)
    if (changed[r]) out.push_back(r);
  return out;
}

// Searches for the grid and reads the whole screen under it; returns the rows whose text changed (every row,
// old and new, when the grid changed).
std::vector<int> TextScreen::search_and_read(const framebuffer::PixelBuffer& fb, int old_rows) {
  const bool all = adopt_grid(fb) || old_rows != rows();
  std::vector<char> changed(rows(), 0);
  if (grid_) {
    read_cells(fb, fb.bounds(), changed);
    print_all_rows(fb);
  }
  std::vector<int> out;
  for (int r = 0; r < (all ? std::max(old_rows, rows()) : rows()); ++r)
    if (all || changed[r]) out.push_back(r);
  return out;
}

std::vector<int> TextScreen::update(const framebuffer::PixelBuffer& fb, const framebuffer::Damage& damage) {
  const int old_rows = rows();
  bool regrid = false;
  if (fb.width() != width_ || fb.height() != height_) {
    width_ = fb.width();
    height_ = fb.height();
    grid_.reset();
    regrid = true;
  }
  if (!grid_) {
    if (!regrid && !search_due(damage.area())) return {};
    regrid = true;
  }
  if (regrid) return search_and_read(fb, old_rows);
  std::vector<char> changed(rows(), 0);
  for (const auto& r : damage.rects()) read_cells(fb, r, changed);
  // The fingerprints of the rows drawn on (kept for a later update(fb, before)).
  const Grid& g = *grid_;
  const framebuffer::Rect text_area{g.x, g.y, g.columns * g.cell_width(), g.rows * g.cell_height()};
  for (const auto& rect : damage.rects()) {
    const auto r = rect.intersect(text_area);
    if (r.empty()) continue;
    for (int row = (r.y - g.y) / g.cell_height(); row <= (r.bottom() - 1 - g.y) / g.cell_height(); ++row)
      prints_[row] = row_print(fb, g, row);
  }
  return after_reading(fb, changed, old_rows);
}

std::string TextScreen::line(int r) const {
  std::string out;
  auto chars = row(r);
  std::size_t end = chars.size();
  while (end > 0 && chars[end - 1] == U' ') --end;
  for (std::size_t i = 0; i < end; ++i) append_utf8(out, chars[i]);
  return out;
}

std::vector<std::string> TextScreen::lines() const {
  std::vector<std::string> out;
  for (int r = 0; r < rows(); ++r) out.push_back(line(r));
  return out;
}

std::string TextScreen::text() const {
  auto all = lines();
  while (!all.empty() && all.back().empty()) all.pop_back();
  std::string out;
  for (const auto& l : all) {
    out += l;
    out += '\n';
  }
  return out;
}

}  // namespace vncgate::text
