// SPDX-License-Identifier: Apache-2.0
#include "framebuffer/pixel_buffer.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace vncgate::framebuffer {

void PixelBuffer::resize(int width, int height) {
  assert(width >= 0 && height >= 0);
  width_ = width;
  height_ = height;
  packed_ = {};
  compacted_ = false;
  // Fresh zeroed storage (black), not a fill: see ZeroedAllocator.
  PixelStorage().swap(pixels_);
  pixels_.resize(static_cast<std::size_t>(width) * height);
}

void PixelBuffer::compact() {
  if (compacted_) return;
  packed_ = pack(pixels_);
  PixelStorage().swap(pixels_);
  compacted_ = true;
}

void PixelBuffer::expand() {
  if (!compacted_) return;
  PixelStorage pixels(packed_.count);
  unpack(packed_, pixels);
  pixels_ = std::move(pixels);
  packed_ = {};
  compacted_ = false;
}

void PixelBuffer::fill(const Rect& r, Pixel p) {
  assert(r.inside(width_, height_));
  for (int y = r.y; y < r.bottom(); ++y) std::fill_n(row(y) + r.x, r.w, p);
}

void PixelBuffer::copy(const Rect& src, int dst_x, int dst_y) {
  assert(src.inside(width_, height_));
  assert((Rect{dst_x, dst_y, src.w, src.h}.inside(width_, height_)));
  const auto bytes = static_cast<std::size_t>(src.w) * sizeof(Pixel);
  // Walk rows bottom-up when moving down so an overlapping source is read before it is overwritten;
  // memmove handles the horizontal overlap within a row.
  if (dst_y > src.y) {
    for (int i = src.h - 1; i >= 0; --i) std::memmove(row(dst_y + i) + dst_x, row(src.y + i) + src.x, bytes);
  } else {
    for (int i = 0; i < src.h; ++i) std::memmove(row(dst_y + i) + dst_x, row(src.y + i) + src.x, bytes);
  }
}

void PixelBuffer::put(const Rect& r, const Pixel* src, int src_stride) {
  assert(r.inside(width_, height_));
  const auto bytes = static_cast<std::size_t>(r.w) * sizeof(Pixel);
  for (int i = 0; i < r.h; ++i) std::memcpy(row(r.y + i) + r.x, src + static_cast<std::size_t>(i) * src_stride, bytes);
}

PixelBuffer shrink_to_width(const PixelBuffer& fb, int max_width) {
  const int step = std::max(1, (fb.width() + max_width - 1) / std::max(1, max_width));
  PixelBuffer small(std::max(1, fb.width() / step), std::max(1, fb.height() / step));
  for (int y = 0; y < small.height(); ++y) {
    const auto* src = fb.row(y * step);
    auto* dst = small.row(y);
    for (int x = 0; x < small.width(); ++x) dst[x] = src[x * step];
  }
  return small;
}

}  // namespace vncgate::framebuffer
