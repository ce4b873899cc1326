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

// A width x height surface of canonical pixels. Every write method asserts its rect is inside; callers (the RFB
// reader) validate wire rects before decoding.
// Rows are reached through row(y): a vertical CopyRect nearly as wide as the screen (a terminal scrolling) moves
// row pointers instead of pixels (copy()), so rows may sit out of order in memory. pixels() and packed() put them
// back in order first; code that walks more than one row from a single pointer (a JPEG or scaler source) checks
// rows_in_order() first.
// compact() trades the pixels for a compressed copy (pixel_packing.hpp: an idle console takes a few KiB
// instead of 4 bytes a pixel); while compacted only the size may be asked; expand() restores them exactly.
class PixelBuffer {
 public:
  PixelBuffer() = default;
  PixelBuffer(int width, int height) { resize(width, height); }
  // A copy has its rows in order (so a picture handed to another thread is never reordered while read there).
  PixelBuffer(const PixelBuffer& other) { *this = other; }
  PixelBuffer& operator=(const PixelBuffer& other);
  // A moved-from buffer is empty (0x0), never a size without pixels.
  PixelBuffer(PixelBuffer&& other) noexcept { *this = std::move(other); }
  PixelBuffer& operator=(PixelBuffer&& other) noexcept {
    width_ = std::exchange(other.width_, 0);
    height_ = std::exchange(other.height_, 0);
    pixels_ = std::move(other.pixels_);
    other.pixels_.clear();
    packed_ = std::exchange(other.packed_, {});
    compacted_ = std::exchange(other.compacted_, false);
    order_ = std::exchange(other.order_, {});
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
  PackedPixels packed() const {
    if (compacted_) return packed_;
    put_rows_in_order();
    return pack(pixels_);
  }
  // Heap bytes held for pixel data (pixels or the compacted copy), for memory accounting.
  std::size_t heap_bytes() const {
    return pixels_.capacity() * sizeof(Pixel) + packed_.heap_bytes() + order_.capacity() * sizeof(std::uint32_t);
  }

  int width() const { return width_; }
  int height() const { return height_; }
  Rect bounds() const { return {0, 0, width_, height_}; }
  // Pixel access (and every method below) is only valid while not compacted.
  Pixel* row(int y) { return pixels_.data() + storage_row(y) * width_; }
  const Pixel* row(int y) const { return pixels_.data() + storage_row(y) * width_; }
  Pixel at(int x, int y) const { return row(y)[x]; }
  // Every row, top to bottom, one after the other (stride == width): rows moved by copy() are put back in
  // order first (a pass over the picture, so not called per update where row() does). Not to be called while
  // another thread reads the buffer.
  std::span<const Pixel> pixels() const {
    put_rows_in_order();
    return pixels_;
  }
  std::span<Pixel> pixels() {
    put_rows_in_order();
    return pixels_;
  }
  // Whether rows y .. y + h - 1 follow each other in memory, so row(y) with a stride of width() reaches them.
  bool rows_in_order(int y, int h) const;
  // This picture's pixels into `other` (resized to match), rows in order: a frame handed to another thread.
  void copy_to(PixelBuffer& other) const;

  void fill(const Rect& r, Pixel p);
  // Copies rect `src` to the same-sized rect at (dst_x, dst_y); overlapping areas are handled (CopyRect).
  void copy(const Rect& src, int dst_x, int dst_y);
  // Copies each rect of `dsts` from (x - dx, y - dy), where no rect reads what an earlier one writes (so one
  // after the other is the same as all at once: CopyBatch checks it).
  void copy_all(std::span<const Rect> dsts, int dx, int dy);
  // Copies `r.w * r.h` pixels from `src` (row stride `src_stride` pixels) into rect r.
  void put(const Rect& r, const Pixel* src, int src_stride);
  // Copies rect r of `from` (the same size as this) into the same place here.
  void put(const Rect& r, const PixelBuffer& from);

 private:
  std::size_t storage_row(int y) const {
    assert(!compacted_ && y >= 0 && y < height_);
    return order_.empty() ? static_cast<std::size_t>(y) : order_[static_cast<std::size_t>(y)];
  }
  // Vertical copies (by `dy` rows) done by rotating row pointers when that moves fewer pixels than memmove would.
  bool scroll_rows(std::span<const Rect> dsts, int dy);
  // Moves the rows into storage order and forgets the row table (logically const: the picture is unchanged).
  void put_rows_in_order() const;

  int width_ = 0;
  int height_ = 0;
  mutable PixelStorage pixels_;
  PackedPixels packed_;  // the pixels while compacted
  bool compacted_ = false;
  // The storage row of each picture row; empty while they are in order (every buffer starts so).
  mutable std::vector<std::uint32_t> order_;
};

// At most `max_width` pixels wide, by sampling every n-th pixel of every n-th row (thumbnails).
PixelBuffer shrink_to_width(const PixelBuffer& fb, int max_width);

}  // namespace vncgate::framebuffer
