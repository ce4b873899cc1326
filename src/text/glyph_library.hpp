// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "text/font.hpp"
#include "text/glyph_table.hpp"

namespace vncgate::text {

// The glyph tables a reader matches cells against, one per cell size (fonts of the same size share a table,
// so a screen in any of them reads with one lookup a cell). Immutable once built: readers on several
// threads share one.
class GlyphLibrary {
 public:
  void add(const Font& font);
  // Every font in `paths`, then seal(); throws what load_font_file throws.
  void add_files(const std::vector<std::string>& paths);
  // Precomputes what makes reading faster (GlyphTable::seal); call after the last add().
  void seal();

  // Tables from the largest cell to the smallest.
  const std::vector<std::unique_ptr<GlyphTable>>& tables() const { return tables_; }
  const GlyphTable* table(int width, int height) const;
  std::size_t glyph_count() const;

  // The installed console fonts (installed_font_files), loaded once on first use; files that fail to load are
  // logged and skipped. Empty when none is installed.
  static std::shared_ptr<const GlyphLibrary> installed();

 private:
  std::vector<std::unique_ptr<GlyphTable>> tables_;
};

}  // namespace vncgate::text
