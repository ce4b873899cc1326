// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <algorithm>
#include <cstdint>

namespace vncgate::framebuffer {

// A rectangle in framebuffer pixels; wire sizes are u16, kept as int so arithmetic cannot wrap.
struct Rect {
  int x = 0;
  int y = 0;
  int w = 0;
  int h = 0;

  bool empty() const { return w <= 0 || h <= 0; }
  int right() const { return x + w; }
  int bottom() const { return y + h; }
  long long area() const { return empty() ? 0 : static_cast<long long>(w) * h; }
  // True when this rect lies fully inside a width x height surface.
  bool inside(int width, int height) const {
    return x >= 0 && y >= 0 && w >= 0 && h >= 0 && x + w <= width && y + h <= height;
  }
  Rect intersect(const Rect& o) const {
    int l = std::max(x, o.x), t = std::max(y, o.y);
    int r = std::min(right(), o.right()), b = std::min(bottom(), o.bottom());
    if (r <= l || b <= t) return {};
    return {l, t, r - l, b - t};
  }
  Rect unite(const Rect& o) const {
    if (empty()) return o;
    if (o.empty()) return *this;
    int l = std::min(x, o.x), t = std::min(y, o.y);
    return {l, t, std::max(right(), o.right()) - l, std::max(bottom(), o.bottom()) - t};
  }
  Rect translated(int dx, int dy) const { return {x + dx, y + dy, w, h}; }
  // The bounding box of what is left of this rect after taking `o` away: exact when `o` cuts off a whole
  // band (top, bottom, left or right), else this rect.
  Rect minus(const Rect& o) const {
    const Rect cut = intersect(o);
    if (cut.empty()) return *this;
    if (cut == *this) return {};
    if (cut.x == x && cut.w == w) {  // a horizontal band
      if (cut.y == y) return {x, cut.bottom(), w, bottom() - cut.bottom()};
      if (cut.bottom() == bottom()) return {x, y, w, cut.y - y};
    } else if (cut.y == y && cut.h == h) {  // a vertical band
      if (cut.x == x) return {cut.right(), y, right() - cut.right(), h};
      if (cut.right() == right()) return {x, y, cut.x - x, h};
    }
    return *this;
  }
  bool operator==(const Rect&) const = default;
};

}  // namespace vncgate::framebuffer
