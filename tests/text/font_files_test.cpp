// SPDX-License-Identifier: Apache-2.0
// The font parsers on the installed Debian fonts (seabios, console-setup-linux, xfonts-base), and on broken
// copies of them: every malformed font is a CodecError, never a crash.
#include "text/font_files.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>

#include "support/process.hpp"
#include "text/glyph_library.hpp"
#include "util/error.hpp"

namespace vncgate::text {
namespace {

const Glyph* find(const Font& f, char32_t c) {
  auto it = std::find_if(f.glyphs.begin(), f.glyphs.end(), [c](const Glyph& g) { return g.code == c; });
  return it == f.glyphs.end() ? nullptr : &*it;
}

TEST(FontFiles, VgaBiosRom_Gives8x16And9x16WithTheNinthColumnRule) {
  const auto fonts = load_font_file("/usr/share/seabios/vgabios-stdvga.bin");
  ASSERT_EQ(fonts.size(), 2u);
  EXPECT_EQ(fonts[0].width, 8);
  EXPECT_EQ(fonts[1].width, 9);
  EXPECT_EQ(fonts[1].height, 16);
  const Glyph* line = find(fonts[1], U'─');  // CP437 0xC4: the ninth column repeats the eighth
  const Glyph* a = find(fonts[1], U'A');
  ASSERT_TRUE(line && a);
  bool repeated = false;
  for (auto r : line->rows) {
    EXPECT_EQ((r >> 8) & 1, (r >> 7) & 1);
    repeated |= (r >> 8) & 1;
  }
  EXPECT_TRUE(repeated);
  for (auto r : a->rows) EXPECT_EQ(r >> 8, 0u);
}

TEST(FontFiles, Psf1AndPsf2_HaveUnicodeCodePoints) {
  const auto psf1 = load_font_file("/usr/share/consolefonts/Lat15-Terminus16.psf.gz");
  ASSERT_EQ(psf1.size(), 1u);
  EXPECT_EQ(psf1[0].width, 8);
  EXPECT_EQ(psf1[0].height, 16);
  EXPECT_TRUE(find(psf1[0], U'é'));
  const auto psf2 = load_font_file("/usr/share/consolefonts/Uni2-TerminusBold20x10.psf.gz");
  ASSERT_EQ(psf2.size(), 1u);
  EXPECT_EQ(psf2[0].width, 10);
  EXPECT_EQ(psf2[0].height, 20);
  EXPECT_TRUE(find(psf2[0], U'Ж'));
}

TEST(FontFiles, Pcf_CellIsAdvanceByAscentPlusDescent) {
  const auto f = load_font_file("/usr/share/fonts/X11/misc/6x13.pcf.gz");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].width, 6);
  EXPECT_EQ(f[0].height, 13);
  EXPECT_EQ(f[0].ascent, 11);
  const Glyph* g = find(f[0], U'g');
  ASSERT_TRUE(g);
  EXPECT_NE(g->rows[12], 0u);  // the descender reaches the last row
}

TEST(FontFiles, InstalledLibrary_HasTheConsoleCellSizes) {
  const auto lib = GlyphLibrary::installed();
  for (auto [w, h] : {std::pair{9, 16}, {8, 16}, {8, 14}, {6, 13}, {9, 15}, {10, 20}})
    EXPECT_TRUE(lib->table(w, h)) << w << "x" << h;
}

// Every prefix length and a few corrupted bytes of real fonts: CodecError or a font, nothing else.
TEST(FontFiles, TruncatedAndCorrupted_AreCodecErrors) {
  for (const char* path :
       {"/usr/share/consolefonts/Lat15-Terminus16.psf.gz", "/usr/share/consolefonts/Uni2-TerminusBold20x10.psf.gz",
        "/usr/share/fonts/X11/misc/6x13.pcf.gz"}) {
    const std::string gz = test::read_file(path);
    std::vector<std::uint8_t> data;  // the plain font (zlib's gzread, independent of the parser's inflate)
    gzFile z = gzopen(path, "rb");
    ASSERT_TRUE(z);
    std::uint8_t buf[65536];
    for (int n; (n = gzread(z, buf, sizeof buf)) > 0;) data.insert(data.end(), buf, buf + n);
    gzclose(z);
    ASSERT_FALSE(parse_font_data(data, path).empty());
    for (std::size_t n = 0; n < data.size(); n += std::max<std::size_t>(1, data.size() / 97)) {
      try {
        parse_font_data(std::span(data).first(n), "prefix");
      } catch (const CodecError&) {
      }
    }
    for (std::size_t i = 0; i < 64 && i < data.size(); ++i) {
      auto bad = data;
      bad[(i * 7919) % bad.size()] ^= 0xff;
      bad[i] ^= 0x55;
      try {
        parse_font_data(bad, "corrupt");
      } catch (const CodecError&) {
      }
    }
    std::vector<std::uint8_t> truncated_gz(gz.begin(), gz.begin() + gz.size() / 2);
    EXPECT_THROW(parse_font_data(truncated_gz, "half.gz"), CodecError);
  }
  EXPECT_THROW(load_font_file("/nonexistent/font.psf"), IoError);
}

}  // namespace
}  // namespace vncgate::text
