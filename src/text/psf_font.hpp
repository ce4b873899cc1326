// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "text/font.hpp"

namespace vncgate::text {

// Parses a Linux console font (PSF1 or PSF2, uncompressed; kbd / console-setup ship them gzipped). Each glyph
// gets the first code point of its entry in the font's Unicode table; a font without a table is in CP437
// order. Throws CodecError (naming `name`) for a malformed or oversized font.
Font parse_psf(std::span<const std::uint8_t> data, const std::string& name);

// True when `data` starts with a PSF1 or PSF2 magic number.
bool is_psf(std::span<const std::uint8_t> data);

}  // namespace vncgate::text
