// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>

namespace vncgate::framebuffer {

// The canonical pixel: 0x00RRGGBB in a native u32 (bytes B,G,R,X on little endian: FFmpeg's "bgr0").
using Pixel = std::uint32_t;

constexpr Pixel make_pixel(unsigned r, unsigned g, unsigned b) { return (r << 16) | (g << 8) | b; }
constexpr unsigned red(Pixel p) { return (p >> 16) & 0xff; }
constexpr unsigned green(Pixel p) { return (p >> 8) & 0xff; }
constexpr unsigned blue(Pixel p) { return p & 0xff; }

}  // namespace vncgate::framebuffer
