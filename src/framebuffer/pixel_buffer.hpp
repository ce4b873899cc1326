// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "framebuffer/rect.hpp"

namespace vncgate::framebuffer {

// The canonical pixel: 0x00RRGGBB in a native u32 (bytes B,G,R,X on little endian: FFmpeg's "bgr0").
using Pixel = std::uint32_t;

constexpr Pixel make_pixel(unsigned r, unsigned g, unsigned b) { return (r << 16) | (g << 8) | b; }
constexpr unsigned red(Pixel p) { return (p >> 16) & 0xff; }
constexpr unsigned green(Pixel p) { return (p >> 8) & 0xff; }
constexpr unsigned blue(Pixel p) { return p & 0xff; }

// A width x height surface of canonical pixels, rows contiguous (stride == width). Every write method
// asserts its rect is inside; callers (the RFB reader) validate wire rects before decoding.
class PixelBuffer {
 public:
  PixelBuffer() = default;
  PixelBuffer(int width, int height) { resize(width, height); }
  PixelBuffer(const PixelBuffer&) = default;
  PixelBuffer& operator=(const PixelBuffer&) = default;
  // A moved-from buffer is empty (0x0), never a size without pixels.
  PixelBuffer(PixelBuffer&& other) noexcept { *this = std::move(other); }
  PixelBuffer& operator=(PixelBuffer&& other) noexcept {
    width_ = std::exchange(other.width_, 0);
    height_ = std::exchange(other.height_, 0);
    pixels_ = std::move(other.pixels_);
    other.pixels_.clear();
    return *this;
  }

  // Resizes and clears to black (a new DesktopSize invalidates all content).
  void resize(int width, int height);

  int width() const { return width_; }
  int height() const { return height_; }
  Rect bounds() const { return {0, 0, width_, height_}; }
  Pixel* row(int y) { return pixels_.data() + static_cast<std::size_t>(y) * width_; }
  const Pixel* row(int y) const { return pixels_.data() + static_cast<std::size_t>(y) * width_; }
  Pixel at(int x, int y) const { return row(y)[x]; }
  std::span<const Pixel> pixels() const { return pixels_; }
  std::span<Pixel> pixels() { return pixels_; }

  void fill(const Rect& r, Pixel p);
  // Copies rect `src` to the same-sized rect at (dst_x, dst_y); overlapping areas are handled (CopyRect).
  void copy(const Rect& src, int dst_x, int dst_y);
  // Copies `r.w * r.h` pixels from `src` (row stride `src_stride` pixels) into rect r.
  void put(const Rect& r, const Pixel* src, int src_stride);

 private:
  int width_ = 0;
  int height_ = 0;
  std::vector<Pixel> pixels_;
};

}  // namespace vncgate::framebuffer
