// SPDX-License-Identifier: Apache-2.0
#include "framebuffer/cursor.hpp"

namespace vncgate::framebuffer {

void composite(PixelBuffer& fb, const Cursor& cursor, int x, int y) {
  if (cursor.empty()) return;
  const int left = x - cursor.hotspot_x;
  const int top = y - cursor.hotspot_y;
  const Rect area = Rect{left, top, cursor.width, cursor.height}.intersect(fb.bounds());
  for (int py = area.y; py < area.bottom(); ++py) {
    const int cy = py - top;
    for (int px = area.x; px < area.right(); ++px) {
      const int cx = px - left;
      const auto i = static_cast<std::size_t>(cy) * cursor.width + cx;
      if (cursor.mask[i]) fb.row(py)[px] = cursor.pixels[i];
    }
  }
}

}  // namespace vncgate::framebuffer
