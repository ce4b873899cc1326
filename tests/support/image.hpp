// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>

#include "framebuffer/pixel_buffer.hpp"

namespace vncgate::test {

using framebuffer::Pixel;
using framebuffer::PixelBuffer;

// Masks for diff_summary/reduce: every bit, or the top 5/6/5 bits of R/G/B (16 bpp screens, where servers and
// clients expand 5/6-bit channels to 8 bits by different rules).
constexpr Pixel kMaskExact = 0xffffff;
constexpr Pixel kMask565 = 0xf8fcf8;

// Binary PPM (P6, maxval 255; comments allowed). Throws std::runtime_error with the path on malformed input.
PixelBuffer load_ppm(const std::string& path);
// PNG through libpng (any colour type; alpha dropped).
PixelBuffer load_png(const std::string& path);
// Writes P6 for debugging a failing comparison.
void save_ppm(const PixelBuffer& image, const std::string& path);

// Each pixel ANDed with `mask`.
PixelBuffer reduce(const PixelBuffer& image, Pixel mask);

// "" when `expected` and `actual` are equal under `mask`; otherwise a one-line account: sizes, or the count
// of differing pixels, their bounding box, and the first differing coordinate with both values.
std::string diff_summary(const PixelBuffer& expected, const PixelBuffer& actual, Pixel mask = kMaskExact);

// Peak signal-to-noise ratio in dB of `actual` against `expected` over `area` (R, G and B alike): 99 when
// equal; lossy codecs at good quality give 30-45. Both must cover `area`.
double psnr(const PixelBuffer& expected, const PixelBuffer& actual, const framebuffer::Rect& area);

}  // namespace vncgate::test
