// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "text/font.hpp"

namespace vncgate::text {

// The fonts in one file's bytes, by content: PSF (console), PCF (X11), or a VGA BIOS ROM image (its 8x16
// table as 8x16 and 9x16); gzip data is inflated first (at most 16 MiB). Throws CodecError for a malformed
// font or an unknown format.
std::vector<Font> parse_font_data(std::span<const std::uint8_t> data, const std::string& name);

// The fonts in a file; throws IoError when it cannot be read, CodecError as parse_font_data.
std::vector<Font> load_font_file(const std::string& path);

// The installed fonts consoles use, those present: the VGA BIOS QEMU loads (seabios), the Linux console
// fonts (console-setup: Uni2-*, Lat15-*, and Ethiopian-Goha16, whose Latin half is the kernel's built-in
// VGA 8x16 that fbcon uses until a font is loaded) and X misc-fixed (xfonts-base) with their bold faces.
std::vector<std::string> installed_font_files();

}  // namespace vncgate::text
