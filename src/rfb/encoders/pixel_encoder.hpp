// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "framebuffer/pixel_buffer.hpp"
#include "rfb/encoding.hpp"
#include "rfb/pixel_format.hpp"

namespace vncgate::rfb {

// How a viewer wants pixel data: what its SetPixelFormat and SetEncodings ask for.
struct PixelParams {
  Encoding encoding = Encoding::raw;  // tight, zrle, hextile or raw
  PixelFormat format = PixelFormat::canonical();
  int compress_level = 1;  // Tight zlib level
  int jpeg_quality = -1;   // Tight JPEG quality 0-9; -1: lossless only
  bool operator==(const PixelParams&) const = default;
};

// Complete FramebufferUpdate rectangles (headers and payloads) for one area.
struct EncodedPixels {
  std::vector<std::uint8_t> bytes;
  int rects = 0;
};

// Encodes the areas `rects` (inside `fb`) as `params` say. Nothing carries over from one call to the next (see
// TightEncoder and ZrleEncoder), so the result can go to every viewer whose update is the same area in the same params
// — the gateway encodes a change once for all its viewers. The encoders' scratch memory is per thread.
EncodedPixels encode_pixels(const framebuffer::PixelBuffer& fb, std::span<const framebuffer::Rect> rects,
                            const PixelParams& params);

}  // namespace vncgate::rfb
