// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <vector>

#include "framebuffer/rect.hpp"

namespace vncgate::framebuffer {

// Changed areas of a picture as a few rectangles (a cheap stand-in for a region): a VNC server reports a
// scrolling terminal as hundreds of small rectangles whose bounding box is the whole screen, and encoding
// only what changed is what keeps a gateway cheap. add() merges rectangles when the merged box wastes no
// area; beyond kMaxRects the new one is merged with the neighbour that wastes least. Rectangles may overlap
// after merging (overlap is sent twice, which is correct, just not free).
class Damage {
 public:
  static constexpr std::size_t kMaxRects = 48;

  Damage() = default;
  explicit Damage(const Rect& r) { add(r); }

  void add(const Rect& r);
  void add(const Damage& d) {
    if (rects_.empty()) {  // the usual case for a viewer in step: nothing to merge with
      rects_ = d.rects_;
      return;
    }
    for (const auto& r : d.rects_) add(r);
  }
  void clear() { rects_.clear(); }
  bool empty() const { return rects_.empty(); }
  const std::vector<Rect>& rects() const { return rects_; }
  Rect bounds() const;
  long long area() const;  // counting overlaps twice
  // Each rectangle clipped to `clip`.
  Damage intersect(const Rect& clip) const;
  // Takes `r` away: exact for rectangles that `r` covers or cuts a band off, else they stay whole.
  void subtract(const Rect& r);
  Damage translated(int dx, int dy) const;
  bool operator==(const Damage&) const = default;

 private:
  std::vector<Rect> rects_;
};

}  // namespace vncgate::framebuffer
