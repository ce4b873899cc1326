// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "text/font.hpp"

namespace vncgate::text {

// Parses an X11 PCF font (uncompressed; xfonts-base ships them gzipped) as a terminal draws it: the cell is
// the widest advance by the font's ascent + descent, each glyph placed at its bearing on the baseline. Only
// Unicode (ISO10646-1) and Latin-1 (ISO8859-1) fonts have known code points; others throw CodecError, as does
// a malformed or oversized font.
Font parse_pcf(std::span<const std::uint8_t> data, const std::string& name);

bool is_pcf(std::span<const std::uint8_t> data);

}  // namespace vncgate::text
