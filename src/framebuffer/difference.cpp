// SPDX-License-Identifier: Apache-2.0
#include "framebuffer/difference.hpp"

#include <algorithm>
#include <cstring>

namespace vncgate::framebuffer {

Damage difference(const PixelBuffer& before, const PixelBuffer& now, int tile) {
  if (before.width() != now.width() || before.height() != now.height()) return Damage(now.bounds());
  tile = std::max(1, tile);
  Damage out;
  const int w = now.width();
  for (int y0 = 0; y0 < now.height(); y0 += tile) {
    const int y1 = std::min(now.height(), y0 + tile);
    int left = w, right = 0;  // columns that changed in this band
    for (int y = y0; y < y1; ++y) {
      const Pixel* a = before.row(y);
      const Pixel* b = now.row(y);
      if (std::memcmp(a, b, sizeof(Pixel) * static_cast<std::size_t>(w)) == 0) continue;
      int l = 0, r = w;
      while (a[l] == b[l]) ++l;
      while (a[r - 1] == b[r - 1]) --r;
      left = std::min(left, l);
      right = std::max(right, r);
    }
    if (left < right) out.add({left, y0, right - left, y1 - y0});
  }
  return out;
}

}  // namespace vncgate::framebuffer
