// SPDX-License-Identifier: Apache-2.0
#include "framebuffer/pixel_buffer.hpp"

#include <algorithm>
#include <cassert>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <utility>
#include <vector>

namespace vncgate::framebuffer {

void PixelBuffer::resize(int width, int height) {
  assert(width >= 0 && height >= 0);
  width_ = width;
  height_ = height;
  packed_ = {};
  compacted_ = false;
  order_ = {};
  // Fresh zeroed storage (black), not a fill: see ZeroedAllocator.
  PixelStorage().swap(pixels_);
  pixels_.resize(static_cast<std::size_t>(width) * height);
}

PixelBuffer& PixelBuffer::operator=(const PixelBuffer& other) {
  if (this == &other) return *this;
  if (other.compacted_ || other.order_.empty()) {
    width_ = other.width_;
    height_ = other.height_;
    pixels_ = other.pixels_;
    packed_ = other.packed_;
    compacted_ = other.compacted_;
    order_ = {};
    return *this;
  }
  other.copy_to(*this);
  return *this;
}

void PixelBuffer::compact() {
  if (compacted_) return;
  put_rows_in_order();
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
  const Rect dst{dst_x, dst_y, src.w, src.h};
  if (dst_x == src.x && scroll_rows({&dst, 1}, dst_y - src.y)) return;
  const auto bytes = static_cast<std::size_t>(src.w) * sizeof(Pixel);
  // Walk rows bottom-up when moving down so an overlapping source is read before it is overwritten;
  // memmove handles the horizontal overlap within a row.
  if (dst_y > src.y) {
    for (int i = src.h - 1; i >= 0; --i) std::memmove(row(dst_y + i) + dst_x, row(src.y + i) + src.x, bytes);
  } else {
    for (int i = 0; i < src.h; ++i) std::memmove(row(dst_y + i) + dst_x, row(src.y + i) + src.x, bytes);
  }
}

void PixelBuffer::copy_all(std::span<const Rect> dsts, int dx, int dy) {
  if (dsts.size() > 1 && dx == 0 && scroll_rows(dsts, dy)) return;
  for (const auto& d : dsts) copy({d.x - dx, d.y - dy, d.w, d.h}, d.x, d.y);
}

// A terminal's scroll is a copy of most of the screen by a few rows (Xvnc cuts it in pieces around the pointer,
// most of them as wide as the window). Rotating the row table over the rows the copies touch (destinations and
// sources) moves all of them; only what must not move is written back: in each of those rows, the columns no
// destination covers (the rows the scroll leaves behind, a margin, the pointer's hole). Done when that is less
// than a quarter of what memmove would move (a 1277x372 piece of a 1280-wide screen: 2 % of it).
bool PixelBuffer::scroll_rows(std::span<const Rect> dsts, int dy) {
  if (dy == 0) return false;
  int top = height_, bottom = 0;
  long long moved = 0;
  for (const auto& d : dsts) {
    if (d.empty()) continue;
    top = std::min({top, d.y, d.y - dy});
    bottom = std::max({bottom, d.bottom(), d.bottom() - dy});
    moved += d.area();
  }
  if (moved == 0) return false;
  struct Span {
    int y, x, right;
  };
  std::vector<Span> kept;
  kept.reserve(static_cast<std::size_t>(bottom - top) * 2);
  long long kept_pixels = 0;
  const auto keep = [&](int y, int x, int right) {
    kept.push_back({y, x, right});
    kept_pixels += right - x;
  };
  std::vector<std::pair<int, int>> covered;
  covered.reserve(dsts.size());
  for (int y = top; y < bottom; ++y) {
    covered.clear();
    for (const auto& d : dsts)
      if (!d.empty() && y >= d.y && y < d.bottom()) covered.emplace_back(d.x, d.right());
    std::sort(covered.begin(), covered.end());
    int x = 0;
    for (const auto& [left, right] : covered) {
      if (left > x) keep(y, x, left);
      x = std::max(x, right);
    }
    if (x < width_) keep(y, x, width_);
    if (kept_pixels * 4 > moved) return false;
  }

  // After the rotation row y's old pixels are in the row buffer `dy` rows away (y + dy), or, for the `|dy|` rows
  // at the end the scroll moves away from, in one that wrapped round to the other end. A kept span is copied
  // straight from there, walking against the scroll (up: bottom first) so that each buffer is read before the
  // spans of its own new row are written into it; only the wrapped rows' spans are saved first.
  const bool up = dy < 0;
  const int wrap_from = up ? top - dy : bottom - dy;  // up: [top, wrap_from) wrap; down: [wrap_from, bottom)
  const auto wraps = [&](int y) { return up ? y < wrap_from : y >= wrap_from; };
  std::vector<Pixel> saved;
  for (const auto& k : kept)
    if (wraps(k.y)) saved.insert(saved.end(), row(k.y) + k.x, row(k.y) + k.right);
  if (order_.empty()) {
    order_.resize(static_cast<std::size_t>(height_));
    std::iota(order_.begin(), order_.end(), 0u);
  }
  const auto first = order_.begin() + top;
  const auto last = order_.begin() + bottom;
  // Down: the bottom `dy` entries come to the top (rows left behind); up: the top ones go to the bottom.
  std::rotate(first, dy > 0 ? last - dy : first - dy, last);
  const auto restore = [&](const Span& k, const Pixel* from) { std::copy_n(from, k.right - k.x, row(k.y) + k.x); };
  if (up) {
    for (auto k = kept.rbegin(); k != kept.rend() && !wraps(k->y); ++k) restore(*k, row(k->y + dy) + k->x);
  } else {
    for (auto k = kept.begin(); k != kept.end() && !wraps(k->y); ++k) restore(*k, row(k->y + dy) + k->x);
  }
  const Pixel* from = saved.data();
  for (const auto& k : kept) {
    if (!wraps(k.y)) continue;
    restore(k, from);
    from += k.right - k.x;
  }
  return true;
}

bool PixelBuffer::rows_in_order(int y, int h) const {
  if (order_.empty()) return true;
  for (int i = 1; i < h; ++i)
    if (order_[static_cast<std::size_t>(y + i)] != order_[static_cast<std::size_t>(y)] + static_cast<unsigned>(i))
      return false;
  return true;
}

// In place, cycle by cycle: each row moves once, through one row of scratch per cycle.
void PixelBuffer::put_rows_in_order() const {
  assert(!compacted_);
  if (order_.empty()) return;
  const auto w = static_cast<std::size_t>(width_);
  std::vector<Pixel> scratch(w);
  Pixel* base = pixels_.data();
  for (std::uint32_t start = 0; start < order_.size(); ++start) {
    if (order_[start] == start) continue;
    std::copy_n(base + start * w, w, scratch.data());
    std::uint32_t at = start;
    while (order_[at] != start) {
      const std::uint32_t next = order_[at];
      std::copy_n(base + next * w, w, base + at * w);
      order_[at] = at;
      at = next;
    }
    std::copy_n(scratch.data(), w, base + at * w);
    order_[at] = at;
  }
  order_ = {};
}

void PixelBuffer::copy_to(PixelBuffer& other) const {
  if (other.width_ != width_ || other.height_ != height_ || other.compacted_) other.resize(width_, height_);
  other.order_ = {};
  const auto w = static_cast<std::size_t>(width_);
  for (int y = 0; y < height_; ++y) std::copy_n(row(y), w, other.pixels_.data() + static_cast<std::size_t>(y) * w);
}

void PixelBuffer::put(const Rect& r, const Pixel* src, int src_stride) {
  assert(r.inside(width_, height_));
  const auto bytes = static_cast<std::size_t>(r.w) * sizeof(Pixel);
  for (int i = 0; i < r.h; ++i) std::memcpy(row(r.y + i) + r.x, src + static_cast<std::size_t>(i) * src_stride, bytes);
}

void PixelBuffer::put(const Rect& r, const PixelBuffer& from) {
  assert(from.width_ == width_ && from.height_ == height_);
  for (int y = r.y; y < r.bottom(); ++y) std::copy_n(from.row(y) + r.x, r.w, row(y) + r.x);
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
