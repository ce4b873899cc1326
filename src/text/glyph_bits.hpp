// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <span>

namespace vncgate::text {

// A glyph row stored most significant bit leftmost (PSF, PCF, the VGA ROM) as bits with column x at bit x,
// `width` columns.
inline std::uint32_t msb_row_to_bits(std::span<const std::uint8_t> bytes, int width) {
  std::uint32_t bits = 0;
  for (int x = 0; x < width; ++x)
    if (bytes[x / 8] & (0x80 >> (x % 8))) bits |= std::uint32_t{1} << x;
  return bits;
}

// Bits for columns 0..width-1.
constexpr std::uint32_t row_mask(int width) { return width >= 32 ? 0xffffffffu : (std::uint32_t{1} << width) - 1; }

}  // namespace vncgate::text
