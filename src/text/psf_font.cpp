// SPDX-License-Identifier: Apache-2.0
#include "text/psf_font.hpp"

#include "text/byte_reader.hpp"
#include "text/code_page_437.hpp"
#include "text/glyph_bits.hpp"

namespace vncgate::text {
namespace {

constexpr std::uint32_t kPsf2Magic = 0x864ab572;  // little endian on disk: 72 b5 4a 86
constexpr std::uint32_t kPsf2HasTable = 0x01;

// Decodes one UTF-8 sequence at `pos` (advancing it); 0 when malformed.
char32_t next_utf8(std::span<const std::uint8_t> s, std::size_t& pos) {
  const std::uint8_t b = s[pos++];
  int extra = b < 0x80 ? 0 : (b & 0xe0) == 0xc0 ? 1 : (b & 0xf0) == 0xe0 ? 2 : (b & 0xf8) == 0xf0 ? 3 : -1;
  if (extra < 0) return 0;
  char32_t c = extra == 0 ? b : b & (0x3f >> extra);
  for (int i = 0; i < extra; ++i) {
    if (pos >= s.size() || (s[pos] & 0xc0) != 0x80) return 0;
    c = (c << 6) | (s[pos++] & 0x3f);
  }
  return c;
}

// Rows of `count` glyphs (`bytes_per_glyph` each, rows padded to bytes, MSB leftmost) into `font`.
void read_bitmaps(const ByteReader& in, std::size_t offset, std::size_t count, std::size_t bytes_per_glyph,
                  Font& font) {
  const std::size_t row_bytes = (font.width + 7) / 8;
  if (bytes_per_glyph < row_bytes * font.height) in.fail("glyph size too small for its width and height");
  const auto all = in.bytes(offset, count * bytes_per_glyph);
  font.glyphs.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    auto& g = font.glyphs[i];
    g.rows.resize(font.height);
    for (int y = 0; y < font.height; ++y)
      g.rows[y] = msb_row_to_bits(all.subspan(i * bytes_per_glyph + y * row_bytes, row_bytes), font.width);
  }
}

void check_size(const ByteReader& in, std::size_t count, int width, int height) {
  if (count == 0 || count > kMaxGlyphs) in.fail("glyph count " + std::to_string(count) + " out of range");
  if (width < 1 || width > kMaxGlyphWidth || height < 1 || height > kMaxGlyphHeight)
    in.fail("glyph size " + std::to_string(width) + "x" + std::to_string(height) + " out of range");
}

// Keeps the glyphs that got a code point; a font without a table is in CP437 order.
void finish(Font& font, bool had_table) {
  if (!had_table)
    for (std::size_t i = 0; i < font.glyphs.size(); ++i) font.glyphs[i].code = cp437_to_unicode(i & 0xff);
  std::erase_if(font.glyphs, [](const Glyph& g) { return g.code == 0; });
}

}  // namespace

bool is_psf(std::span<const std::uint8_t> data) {
  if (data.size() >= 2 && data[0] == 0x36 && data[1] == 0x04) return true;
  return data.size() >= 4 &&
         (data[0] | (data[1] << 8) | (data[2] << 16) | (std::uint32_t{data[3]} << 24)) == kPsf2Magic;
}

Font parse_psf(std::span<const std::uint8_t> data, const std::string& name) {
  ByteReader in(data, name);
  Font font;
  font.name = name;
  if (in.size() >= 2 && in.u8(0) == 0x36 && in.u8(1) == 0x04) {
    // PSF1: mode (bit 0: 512 glyphs, bits 1-2: a Unicode table of u16 values follows), bytes per glyph.
    const unsigned mode = in.u8(2);
    const std::size_t count = (mode & 0x01) ? 512 : 256;
    font.width = 8;
    font.height = static_cast<int>(in.u8(3));
    check_size(in, count, font.width, font.height);
    read_bitmaps(in, 4, count, font.height, font);
    const bool has_table = (mode & 0x06) != 0;
    if (has_table) {
      std::size_t pos = 4 + count * font.height;
      for (auto& g : font.glyphs) {
        bool in_sequence = false;
        for (;;) {
          const std::uint32_t v = in.u16(pos, false);
          pos += 2;
          if (v == 0xffff) break;
          if (v == 0xfffe)
            in_sequence = true;
          else if (!in_sequence && g.code == 0)
            g.code = v;
        }
      }
    }
    finish(font, has_table);
    return font;
  }
  if (in.size() < 32 || in.u32(0, false) != kPsf2Magic) in.fail("not a PSF1 or PSF2 font");
  const std::uint32_t header_size = in.u32(8, false), flags = in.u32(12, false);
  const std::uint32_t count = in.u32(16, false), bytes_per_glyph = in.u32(20, false);
  font.height = static_cast<int>(std::min<std::uint32_t>(in.u32(24, false), 1000));
  font.width = static_cast<int>(std::min<std::uint32_t>(in.u32(28, false), 1000));
  check_size(in, count, font.width, font.height);
  if (bytes_per_glyph > 4096) in.fail("glyph size out of range");
  read_bitmaps(in, header_size, count, bytes_per_glyph, font);
  const bool has_table = flags & kPsf2HasTable;
  if (has_table) {
    // Per glyph: UTF-8 code points, 0xfe starting sequences (combined characters, skipped), 0xff ending it.
    const auto table = in.bytes(header_size + std::size_t{count} * bytes_per_glyph,
                                in.size() - header_size - std::size_t{count} * bytes_per_glyph);
    std::size_t pos = 0;
    for (auto& g : font.glyphs) {
      bool in_sequence = false;
      for (;;) {
        if (pos >= table.size()) in.fail("Unicode table truncated");
        if (table[pos] == 0xff) {
          ++pos;
          break;
        }
        if (table[pos] == 0xfe) {
          in_sequence = true;
          ++pos;
          continue;
        }
        const char32_t c = next_utf8(table, pos);
        if (!in_sequence && g.code == 0) g.code = c;
      }
    }
  }
  finish(font, has_table);
  return font;
}

}  // namespace vncgate::text
