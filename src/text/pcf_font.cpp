// SPDX-License-Identifier: Apache-2.0
#include "text/pcf_font.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <vector>

#include "text/byte_reader.hpp"
#include "text/glyph_bits.hpp"

namespace vncgate::text {
namespace {

// Table types and format bits (X.Org's pcf.h).
constexpr std::uint32_t kProperties = 1 << 0, kAccelerators = 1 << 1, kMetrics = 1 << 2, kBitmaps = 1 << 3,
                        kEncodings = 1 << 5, kBdfAccelerators = 1 << 8;
constexpr std::uint32_t kCompressedMetrics = 0x100;
constexpr std::uint32_t kByteMsb = 1 << 2, kBitMsb = 1 << 3;

struct Metrics {
  int left = 0, right = 0, advance = 0, ascent = 0, descent = 0;
};

// A table's location; its own first u32 (little endian) is its format, which sets the order of the rest.
struct Table {
  std::size_t offset = 0;
  std::uint32_t format = 0;
  bool big() const { return format & kByteMsb; }
};

std::map<std::uint32_t, Table> read_toc(const ByteReader& in) {
  const std::uint32_t count = in.u32(4, false);
  if (count > 64) in.fail("too many tables");
  std::map<std::uint32_t, Table> toc;
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::size_t entry = 8 + i * 16;
    const std::uint32_t type = in.u32(entry, false), offset = in.u32(entry + 12, false);
    Table t{offset, in.u32(offset, false)};
    if (in.u32(entry + 4, false) != t.format) in.fail("table format mismatch");
    toc.emplace(type, t);
  }
  return toc;
}

const Table& need(const ByteReader& in, const std::map<std::uint32_t, Table>& toc, std::uint32_t type,
                  const char* what) {
  auto it = toc.find(type);
  if (it == toc.end()) in.fail(std::string("no ") + what + " table");
  return it->second;
}

int s16(std::uint32_t v) { return static_cast<std::int16_t>(v); }

Metrics read_metrics(const ByteReader& in, std::size_t pos, bool compressed, bool big) {
  if (compressed)
    return {static_cast<int>(in.u8(pos)) - 0x80, static_cast<int>(in.u8(pos + 1)) - 0x80,
            static_cast<int>(in.u8(pos + 2)) - 0x80, static_cast<int>(in.u8(pos + 3)) - 0x80,
            static_cast<int>(in.u8(pos + 4)) - 0x80};
  return {s16(in.u16(pos, big)), s16(in.u16(pos + 2, big)), s16(in.u16(pos + 4, big)), s16(in.u16(pos + 6, big)),
          s16(in.u16(pos + 8, big))};
}

// The value of string property `key` ("CHARSET_REGISTRY"), if present.
std::optional<std::string> string_property(const ByteReader& in, const Table& t, const std::string& key) {
  const std::uint32_t count = in.u32(t.offset + 4, t.big());
  if (count > 4096) in.fail("too many properties");
  const std::size_t props = t.offset + 8;
  const std::size_t strings = props + count * 9 + ((count & 3) ? 4 - (count & 3) : 0) + 4;
  const std::uint32_t strings_size = in.u32(strings - 4, t.big());
  const auto pool = in.bytes(strings, strings_size);
  auto str_at = [&](std::uint32_t off) {
    if (off >= pool.size()) in.fail("property string out of range");
    std::size_t end = off;
    while (end < pool.size() && pool[end]) ++end;
    return std::string(pool.begin() + off, pool.begin() + end);
  };
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::size_t p = props + i * 9;
    if (in.u8(p + 4) && str_at(in.u32(p, t.big())) == key) return str_at(in.u32(p + 5, t.big()));
  }
  return std::nullopt;
}

}  // namespace

bool is_pcf(std::span<const std::uint8_t> data) {
  return data.size() >= 4 && data[0] == 1 && data[1] == 'f' && data[2] == 'c' && data[3] == 'p';
}

Font parse_pcf(std::span<const std::uint8_t> data, const std::string& name) {
  ByteReader in(data, name);
  if (!is_pcf(data)) in.fail("not a PCF font");
  const auto toc = read_toc(in);
  Font font;
  font.name = name;

  // Which code points the encoding table holds.
  if (auto it = toc.find(kProperties); it != toc.end()) {
    const auto registry = string_property(in, it->second, "CHARSET_REGISTRY");
    const auto encoding = string_property(in, it->second, "CHARSET_ENCODING");
    const bool unicode = registry && (*registry == "ISO10646" || *registry == "iso10646") && encoding == "1";
    const bool latin1 = registry && (*registry == "ISO8859" || *registry == "iso8859") && encoding == "1";
    if (!unicode && !latin1)
      in.fail("charset " + registry.value_or("?") + "-" + encoding.value_or("?") +
              " is neither ISO10646-1 nor ISO8859-1");
  }

  // Cell: ascent + descent high, the widest advance wide.
  const auto acc_it = toc.count(kBdfAccelerators) ? toc.find(kBdfAccelerators) : toc.find(kAccelerators);
  if (acc_it == toc.end()) in.fail("no accelerators table");
  const Table& acc = acc_it->second;
  const int font_ascent = static_cast<std::int32_t>(in.u32(acc.offset + 12, acc.big()));
  const int font_descent = static_cast<std::int32_t>(in.u32(acc.offset + 16, acc.big()));
  const Metrics max_bounds = read_metrics(in, acc.offset + 24 + 12, false, acc.big());
  font.width = max_bounds.advance;
  font.height = font_ascent + font_descent;
  font.ascent = font_ascent;
  if (font_ascent < 0 || font_descent < 0 || font.width < 1 || font.width > kMaxGlyphWidth || font.height < 1 ||
      font.height > kMaxGlyphHeight)
    in.fail("cell size out of range");

  const Table& mt = need(in, toc, kMetrics, "metrics");
  const bool compressed = mt.format & kCompressedMetrics;
  const std::uint32_t metric_count = compressed ? in.u16(mt.offset + 4, mt.big()) : in.u32(mt.offset + 4, mt.big());
  if (metric_count > kMaxGlyphs) in.fail("too many glyphs");
  const std::size_t metric_base = mt.offset + (compressed ? 6 : 8);

  const Table& bt = need(in, toc, kBitmaps, "bitmaps");
  const std::uint32_t bitmap_count = in.u32(bt.offset + 4, bt.big());
  if (bitmap_count != metric_count) in.fail("bitmap and metric counts differ");
  const std::size_t offsets = bt.offset + 8;
  const std::size_t sizes = offsets + std::size_t{bitmap_count} * 4;
  const std::uint32_t pad = bt.format & 3, unit = (bt.format >> 4) & 3;
  const auto bitmap_data = in.bytes(sizes + 16, in.u32(sizes + pad * 4, bt.big()));
  const bool swap = ((bt.format & kByteMsb) != 0) != ((bt.format & kBitMsb) != 0);

  // Glyph index -> its rows in the cell, built on demand for the encoded ones.
  auto glyph_rows = [&](std::uint32_t index) {
    const Metrics m = read_metrics(in, metric_base + index * (compressed ? 5 : 12), compressed, mt.big());
    std::vector<std::uint32_t> rows(font.height, 0);
    const int w = m.right - m.left, h = m.ascent + m.descent;
    if (w <= 0 || h <= 0) return rows;
    if (w > 256 || h > 256) in.fail("glyph too large");
    const std::size_t row_bytes = ((w + 7) / 8 + (1u << pad) - 1) & ~((std::size_t{1} << pad) - 1);
    const std::uint32_t start = in.u32(offsets + index * 4, bt.big());
    if (start > bitmap_data.size() || row_bytes * h > bitmap_data.size() - start) in.fail("bitmap out of range");
    std::vector<std::uint8_t> row(row_bytes);
    const std::size_t unit_bytes = std::size_t{1} << unit;
    for (int y = 0; y < h; ++y) {
      std::copy_n(bitmap_data.begin() + start + y * row_bytes, row_bytes, row.begin());
      if (swap && unit_bytes > 1 && row_bytes % unit_bytes == 0)
        for (std::size_t u = 0; u < row_bytes; u += unit_bytes)
          std::reverse(row.begin() + u, row.begin() + u + unit_bytes);
      if (!(bt.format & kBitMsb))
        for (auto& b : row) {
          std::uint8_t r = 0;
          for (int i = 0; i < 8; ++i) r |= ((b >> i) & 1) << (7 - i);
          b = r;
        }
      const int cell_y = font_ascent - m.ascent + y;
      if (cell_y < 0 || cell_y >= font.height) continue;  // ink outside the cell is clipped, as X clips it
      for (int x = 0; x < w; ++x) {
        const int cell_x = m.left + x;
        if ((row[x / 8] & (0x80 >> (x % 8))) && cell_x >= 0 && cell_x < font.width)
          rows[cell_y] |= std::uint32_t{1} << cell_x;
      }
    }
    return rows;
  };

  const Table& et = need(in, toc, kEncodings, "encodings");
  const int min2 = s16(in.u16(et.offset + 4, et.big())), max2 = s16(in.u16(et.offset + 6, et.big()));
  const int min1 = s16(in.u16(et.offset + 8, et.big())), max1 = s16(in.u16(et.offset + 10, et.big()));
  if (min2 < 0 || max2 > 255 || min1 < 0 || max1 > 255 || min2 > max2 || min1 > max1) in.fail("bad encoding range");
  const std::size_t index_base = et.offset + 14;
  for (int b1 = min1; b1 <= max1; ++b1)
    for (int b2 = min2; b2 <= max2; ++b2) {
      const std::size_t slot = std::size_t(b1 - min1) * (max2 - min2 + 1) + (b2 - min2);
      const std::uint32_t index = in.u16(index_base + slot * 2, et.big());
      if (index == 0xffff) continue;
      if (index >= metric_count) in.fail("encoding refers to a missing glyph");
      font.glyphs.push_back(Glyph{static_cast<char32_t>((b1 << 8) | b2), glyph_rows(index)});
    }
  return font;
}

}  // namespace vncgate::text
