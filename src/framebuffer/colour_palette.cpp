// SPDX-License-Identifier: Apache-2.0
#include "framebuffer/colour_palette.hpp"

#include <algorithm>

namespace vncgate::framebuffer {

void ColourPalette::clear() {
  slots_.fill(-1);
  size_ = 0;
  overflowed_ = false;
}

int ColourPalette::add(Pixel p, int limit) {
  for (std::size_t s = slot(p);; s = (s + 1) & (kSlots - 1)) {
    const int i = slots_[s];
    if (i < 0) {
      if (size_ >= limit) return -1;
      slots_[s] = static_cast<std::int16_t>(size_);
      colours_[static_cast<std::size_t>(size_)] = p;
      return size_++;
    }
    if (colours_[static_cast<std::size_t>(i)] == p) return i;
  }
}

int ColourPalette::collect(const PixelBuffer& fb, const Rect& r, int limit) {
  clear();
  limit = std::clamp(limit, 1, kMaxColours);
  for (int y = r.y; y < r.bottom(); ++y) {
    const auto* row = fb.row(y) + r.x;
    Pixel last = row[0];
    int i = add(last, limit);
    for (int x = 0; x < r.w; ++x) {
      if (row[x] != last) {  // runs are common on screens: skip the lookup inside them
        last = row[x];
        i = add(last, limit);
      }
      if (i < 0) {
        overflowed_ = true;
        return size_;
      }
    }
  }
  return size_;
}

int ColourPalette::index(Pixel p) const {
  for (std::size_t s = slot(p);; s = (s + 1) & (kSlots - 1)) {
    if (slots_[s] < 0) return 0;  // not collected: a caller bug, but never an out-of-range index
    if (colours_[static_cast<std::size_t>(slots_[s])] == p) return slots_[s];
  }
}

}  // namespace vncgate::framebuffer
