// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "text/font.hpp"

namespace vncgate::text {

// QEMU draws VGA text mode with the font the guest's VGA BIOS loaded, which is the 8x16 table inside that
// BIOS (SeaBIOS's vgabios-*.bin, package seabios; it differs from the Linux console fonts in glyphs such as
// 0, m, v and x). Finds that table in a ROM image — 256 glyphs of 16 rows in CP437 order: NUL and space
// blank, 0xDB a full block, every printable ASCII glyph inked — and returns it twice: 8x16, and 9x16 as
// 9-dot text mode (720x400) shows it, the ninth column blank except for CP437 0xC0-0xDF (line drawing),
// which repeat their eighth. Empty when the image holds no such table.
std::vector<Font> vga_rom_fonts(std::span<const std::uint8_t> rom, const std::string& name);

}  // namespace vncgate::text
