// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the font parsers (src/text): byte 0 picks the name the data is parsed under (a ROM
// image name makes unknown data a VGA BIOS search), the rest is a font file — PSF1, PSF2, PCF, gzip or ROM.
// Bad input must end in CodecError, nothing else; a font that parses has glyphs within its declared cell.
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "text/font_files.hpp"
#include "text/glyph_library.hpp"
#include "util/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vncgate;
  if (size < 1) return 0;
  const char* name = (data[0] & 1) ? "fuzz.bin" : "fuzz.psf";
  std::vector<text::Font> fonts;
  try {
    fonts = text::parse_font_data({data + 1, size - 1}, name);
  } catch (const CodecError&) {
    return 0;
  }
  text::GlyphLibrary library;
  for (const auto& f : fonts) {
    if (f.width < 1 || f.width > text::kMaxGlyphWidth || f.height < 1 || f.height > text::kMaxGlyphHeight) std::abort();
    for (const auto& g : f.glyphs) {
      if (static_cast<int>(g.rows.size()) != f.height) std::abort();
      for (auto r : g.rows)
        if (f.width < 32 && (r >> f.width) != 0) std::abort();  // ink outside the cell
    }
    library.add(f);
  }
  return 0;
}
