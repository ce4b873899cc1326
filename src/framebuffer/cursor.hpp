// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <vector>

#include "framebuffer/pixel_buffer.hpp"

namespace vncgate::framebuffer {

// The remote pointer shape from the Cursor pseudo-encoding, kept apart from the framebuffer so sinks decide
// whether to composite it. `mask` has one byte per pixel (0 transparent, 1 opaque).
struct Cursor {
  int width = 0;
  int height = 0;
  int hotspot_x = 0;
  int hotspot_y = 0;
  std::vector<Pixel> pixels;
  std::vector<std::uint8_t> mask;

  bool empty() const { return width <= 0 || height <= 0; }
};

// Draws `cursor` into `fb` with its hotspot at (x, y), clipped to the framebuffer.
void composite(PixelBuffer& fb, const Cursor& cursor, int x, int y);

}  // namespace vncgate::framebuffer
