// SPDX-License-Identifier: Apache-2.0
#include "text/vga_rom_font.hpp"

#include <algorithm>
#include <optional>

#include "text/code_page_437.hpp"
#include "text/glyph_bits.hpp"

namespace vncgate::text {
namespace {

constexpr int kHeight = 16;
constexpr std::size_t kTableBytes = 256 * kHeight;

bool all_of(std::span<const std::uint8_t> s, std::uint8_t v) {
  return std::all_of(s.begin(), s.end(), [v](std::uint8_t b) { return b == v; });
}

std::optional<std::size_t> find_table(std::span<const std::uint8_t> rom) {
  if (rom.size() < kTableBytes) return std::nullopt;
  for (std::size_t o = 0; o + kTableBytes <= rom.size(); ++o) {
    auto glyph = [&](unsigned i) { return rom.subspan(o + i * kHeight, kHeight); };
    if (!all_of(glyph(0xdb), 0xff) || !all_of(glyph(0), 0) || !all_of(glyph(0x20), 0)) continue;
    bool inked = true;
    for (unsigned i = 0x21; i < 0x7f && inked; ++i) inked = !all_of(glyph(i), 0);
    if (inked) return o;
  }
  return std::nullopt;
}

}  // namespace

std::vector<Font> vga_rom_fonts(std::span<const std::uint8_t> rom, const std::string& name) {
  const auto offset = find_table(rom);
  if (!offset) return {};
  Font eight{name + " 8x16", 8, kHeight, -1, {}}, nine{name + " 9x16", 9, kHeight, -1, {}};
  for (unsigned i = 0; i < 256; ++i) {
    Glyph g{cp437_to_unicode(i), std::vector<std::uint32_t>(kHeight)};
    if (g.code == 0) continue;
    for (int y = 0; y < kHeight; ++y) g.rows[y] = msb_row_to_bits(rom.subspan(*offset + i * kHeight + y, 1), 8);
    Glyph wide = g;
    if (i >= 0xc0 && i <= 0xdf)
      for (auto& r : wide.rows) r |= ((r >> 7) & 1) << 8;
    eight.glyphs.push_back(std::move(g));
    nine.glyphs.push_back(std::move(wide));
  }
  return {std::move(eight), std::move(nine)};
}

}  // namespace vncgate::text
