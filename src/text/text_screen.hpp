// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "framebuffer/damage.hpp"
#include "framebuffer/pixel_buffer.hpp"
#include "text/cell_reader.hpp"
#include "text/glyph_library.hpp"
#include "text/grid.hpp"

namespace vncgate::text {

// The text on a console framebuffer, kept up to date from its damage: only the cells a change touches are
// read again. The grid is found on the first frame, after a size change, and again when most inked cells
// stop reading (a new font, a graphical screen); while none is found the screen is not text and has no rows,
// and is searched again once enough of it changed.
// Not thread-safe; one per framebuffer.
class TextScreen {
 public:
  explicit TextScreen(std::shared_ptr<const GlyphLibrary> library = GlyphLibrary::installed());

  // Reads the cells `damage` touches (the whole screen when the grid is new) and returns the rows whose
  // text changed, ascending (every row, old and new, when the grid changed).
  std::vector<int> update(const framebuffer::PixelBuffer& fb, const framebuffer::Damage& damage);
  // The same, `before` being the picture of the previous update(): the changes are found by comparing with it
  // row by row, and a row whose pixels are those of another row of `before` (the screen scrolled) takes that
  // row's text instead of being read again — found by a fingerprint of each row, confirmed by comparing the
  // pixels. A scroll costs a few reads instead of a whole screen.
  std::vector<int> update(const framebuffer::PixelBuffer& fb, const framebuffer::PixelBuffer& before);
  // The whole screen.
  std::vector<int> update(const framebuffer::PixelBuffer& fb) { return update(fb, framebuffer::Damage(fb.bounds())); }

  // A grid was found and at least two thirds of the inked cells read as glyphs.
  bool is_text() const;
  const std::optional<Grid>& grid() const { return grid_; }
  int columns() const { return grid_ ? grid_->columns : 0; }
  int rows() const { return grid_ ? grid_->rows : 0; }
  // Row `r`'s characters, U+FFFD for unreadable cells.
  std::u32string_view row(int r) const {
    return {codes_.data() + std::size_t(r) * columns(), static_cast<std::size_t>(columns())};
  }
  // Row `r` as UTF-8 without trailing spaces.
  std::string line(int r) const;
  std::vector<std::string> lines() const;
  // All rows joined by '\n', trailing blank rows dropped.
  std::string text() const;
  int glyph_cells() const { return glyphs_; }
  int unreadable_cells() const { return unreadable_; }
  // Times the grid was searched for (a costly full-screen step; the rest is incremental).
  int grid_searches() const { return searches_; }
  // Cells read so far (rows taken from where they were before are not read).
  long long cells_read() const { return cells_read_; }

 private:
  bool adopt_grid(const framebuffer::PixelBuffer& fb);
  void read_cells(const framebuffer::PixelBuffer& fb, const framebuffer::Rect& area, std::vector<char>& changed);
  void count(CellKind kind, int delta);
  void compare_rows(const framebuffer::PixelBuffer& fb, const framebuffer::PixelBuffer& before,
                    std::vector<char>& changed);
  std::vector<int> after_reading(const framebuffer::PixelBuffer& fb, std::vector<char>& changed, int old_rows);
  void print_all_rows(const framebuffer::PixelBuffer& fb);
  bool search_due(long long changed);
  std::vector<int> search_and_read(const framebuffer::PixelBuffer& fb, int old_rows);

  std::shared_ptr<const GlyphLibrary> library_;
  std::optional<Grid> grid_;
  std::vector<char32_t> codes_;
  std::vector<CellKind> kinds_;
  std::vector<std::uint64_t> prints_;  // a fingerprint of each text row's pixels as last read
  long long cells_read_ = 0;
  int glyphs_ = 0;
  int unreadable_ = 0;
  int width_ = -1;
  int height_ = -1;
  long long damage_since_search_ = 0;  // pixels changed since a search found no grid
  int searches_ = 0;
};

}  // namespace vncgate::text
