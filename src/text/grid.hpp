// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "framebuffer/pixel.hpp"
#include "framebuffer/rect.hpp"
#include "text/glyph_table.hpp"

namespace vncgate::text {

// Where a text screen's cells are: `columns` x `rows` cells of the table's size from pixel (x, y).
struct Grid {
  const GlyphTable* table = nullptr;
  int x = 0;
  int y = 0;
  int columns = 0;
  int rows = 0;
  framebuffer::Pixel background = 0;  // the screen's most common colour

  int cell_width() const { return table->width(); }
  int cell_height() const { return table->height(); }
  framebuffer::Rect cell_rect(int column, int row) const {
    return {x + column * cell_width(), y + row * cell_height(), cell_width(), cell_height()};
  }
  bool same_cells(const Grid& o) const {
    return table == o.table && x == o.x && y == o.y && columns == o.columns && rows == o.rows;
  }
};

}  // namespace vncgate::text
