// SPDX-License-Identifier: Apache-2.0
#include "text/glyph_library.hpp"

#include <algorithm>

#include "text/font_files.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace vncgate::text {

void GlyphLibrary::add(const Font& font) {
  auto it = std::find_if(tables_.begin(), tables_.end(),
                         [&](const auto& t) { return t->width() == font.width && t->height() == font.height; });
  GlyphTable* table = nullptr;
  if (it != tables_.end()) {
    table = it->get();
  } else {
    tables_.push_back(std::make_unique<GlyphTable>(font.width, font.height));
    table = tables_.back().get();
    std::stable_sort(tables_.begin(), tables_.end(),
                     [](const auto& a, const auto& b) { return a->width() * a->height() > b->width() * b->height(); });
  }
  for (const auto& g : font.glyphs) table->add(g, font.ascent);
}

void GlyphLibrary::add_files(const std::vector<std::string>& paths) {
  for (const auto& p : paths)
    for (const auto& f : load_font_file(p)) add(f);
  seal();
}

void GlyphLibrary::seal() {
  for (auto& t : tables_) t->seal();
}

const GlyphTable* GlyphLibrary::table(int width, int height) const {
  for (const auto& t : tables_)
    if (t->width() == width && t->height() == height) return t.get();
  return nullptr;
}

std::size_t GlyphLibrary::glyph_count() const {
  std::size_t n = 0;
  for (const auto& t : tables_) n += t->size();
  return n;
}

std::shared_ptr<const GlyphLibrary> GlyphLibrary::installed() {
  static const std::shared_ptr<const GlyphLibrary> library = [] {
    auto lib = std::make_shared<GlyphLibrary>();
    for (const auto& path : installed_font_files()) {
      try {
        for (const auto& f : load_font_file(path)) lib->add(f);
      } catch (const Error& e) {
        spdlog::warn("text: skipping font: {}", e.what());
      }
    }
    lib->seal();
    return lib;
  }();
  return library;
}

}  // namespace vncgate::text
