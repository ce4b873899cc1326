// SPDX-License-Identifier: Apache-2.0
#include "text/text_screen.hpp"

#include <algorithm>

#include "text/grid_finder.hpp"
#include "text/utf8.hpp"

namespace vncgate::text {

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
      if (c.code == codes_[i] && c.kind == kinds_[i]) continue;
      count(kinds_[i], -1);
      count(c.kind, 1);
      codes_[i] = c.code;
      kinds_[i] = c.kind;
      changed[row] = 1;
    }
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
    // Without a grid, search again only once a quarter of the screen changed: a desktop is not re-searched
    // at every frame.
    damage_since_search_ += damage.area();
    if (!regrid && searches_ > 0 && damage_since_search_ * 4 < static_cast<long long>(width_) * height_) return {};
    regrid = true;
  }
  std::vector<char> changed;
  bool all = false;
  if (regrid) {
    all = adopt_grid(fb) || old_rows != rows();
    changed.assign(rows(), 0);
    if (grid_) read_cells(fb, fb.bounds(), changed);
  } else {
    changed.assign(rows(), 0);
    for (const auto& r : damage.rects()) read_cells(fb, r, changed);
    // Most inked cells no longer read: the font or the mode changed.
    if (unreadable_ > 4 && unreadable_ * 2 > glyphs_ && adopt_grid(fb)) {
      all = true;
      changed.assign(rows(), 0);
      if (grid_) read_cells(fb, fb.bounds(), changed);
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
