// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <span>
#include <utility>
#include <vector>

#include "framebuffer/pixel.hpp"
#include "framebuffer/pixel_packing.hpp"
#include "framebuffer/rect.hpp"

namespace vncgate::framebuffer {

// Storage that starts zeroed without writing it: calloc hands large blocks out as fresh pages the kernel
// commits only when written, so a console that claims a huge screen and draws little costs what it draws
// (docs/security.md, hostile sizes). Elements are default-initialised (not zeroed again) on resize.
template <typename T>
struct ZeroedAllocator {
  using value_type = T;
  ZeroedAllocator() = default;
  template <typename U>
  ZeroedAllocator(const ZeroedAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) {
    if (auto* p = static_cast<T*>(std::calloc(n, sizeof(T)))) return p;
    throw std::bad_alloc();
  }
  void deallocate(T* p, std::size_t) noexcept { std::free(p); }
  template <typename U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;  // calloc's zeros stay: no write
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
  friend bool operator==(const ZeroedAllocator&, const ZeroedAllocator&) { return true; }
};
using PixelStorage = std::vector<Pixel, ZeroedAllocator<Pixel>>;

// A width x height surface of canonical pixels, rows contiguous (stride == width). Every write method
// asserts its rect is inside; callers (the RFB reader) validate wire rects before decoding.
// compact() trades the pixels for a compressed copy (pixel_packing.hpp: an idle console takes a few KiB
// instead of 4 bytes a pixel); while compacted only the size may be asked; expand() restores them exactly.
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
    packed_ = std::exchange(other.packed_, {});
    compacted_ = std::exchange(other.compacted_, false);
    return *this;
  }

  // Resizes and clears to black (a new DesktopSize invalidates all content); drops a compacted copy.
  void resize(int width, int height);

  // Compresses the pixels and frees their storage; no-op when already compacted.
  void compact();
  // Restores the pixels compact() stored; no-op when not compacted. Throws std::bad_alloc.
  void expand();
  bool compacted() const { return compacted_; }
  // The compressed copy, made now unless compacted (an FBS checkpoint stores the picture this way).
  PackedPixels packed() const { return compacted_ ? packed_ : pack(pixels_); }
  // Heap bytes held for pixel data (pixels or the compacted copy), for memory accounting.
  std::size_t heap_bytes() const { return pixels_.capacity() * sizeof(Pixel) + packed_.heap_bytes(); }

  int width() const { return width_; }
  int height() const { return height_; }
  Rect bounds() const { return {0, 0, width_, height_}; }
  // Pixel access (and every method below) is only valid while not compacted.
  Pixel* row(int y) {
    assert(!compacted_);
    return pixels_.data() + static_cast<std::size_t>(y) * width_;
  }
  const Pixel* row(int y) const {
    assert(!compacted_);
    return pixels_.data() + static_cast<std::size_t>(y) * width_;
  }
  Pixel at(int x, int y) const { return row(y)[x]; }
  std::span<const Pixel> pixels() const {
    assert(!compacted_);
    return pixels_;
  }
  std::span<Pixel> pixels() {
    assert(!compacted_);
    return pixels_;
  }

  void fill(const Rect& r, Pixel p);
  // Copies rect `src` to the same-sized rect at (dst_x, dst_y); overlapping areas are handled (CopyRect).
  void copy(const Rect& src, int dst_x, int dst_y);
  // Copies `r.w * r.h` pixels from `src` (row stride `src_stride` pixels) into rect r.
  void put(const Rect& r, const Pixel* src, int src_stride);

 private:
  int width_ = 0;
  int height_ = 0;
  PixelStorage pixels_;
  PackedPixels packed_;  // the pixels while compacted
  bool compacted_ = false;
};

// At most `max_width` pixels wide, by sampling every n-th pixel of every n-th row (thumbnails).
PixelBuffer shrink_to_width(const PixelBuffer& fb, int max_width);

}  // namespace vncgate::framebuffer
