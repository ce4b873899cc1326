// SPDX-License-Identifier: Apache-2.0
#include "framebuffer/damage.hpp"

#include <limits>

namespace vncgate::framebuffer {

void Damage::add(const Rect& added) {
  Rect r = added;
  if (r.empty()) return;
  // Absorb every rectangle that merges with `r` for free (contained, or side by side with equal edges).
  for (std::size_t i = 0; i < rects_.size();) {
    const Rect box = rects_[i].unite(r);
    if (box == rects_[i]) return;  // already covered
    if (box.area() <= rects_[i].area() + r.area() - rects_[i].intersect(r).area()) {
      r = box;
      rects_[i] = rects_.back();
      rects_.pop_back();
      i = 0;
      continue;
    }
    ++i;
  }
  if (rects_.size() < kMaxRects) {
    rects_.push_back(r);
    return;
  }
  std::size_t best = 0;
  long long least = std::numeric_limits<long long>::max();
  for (std::size_t i = 0; i < rects_.size(); ++i) {
    const long long waste = rects_[i].unite(r).area() - rects_[i].area();
    if (waste < least) least = waste, best = i;
  }
  const Rect merged = rects_[best].unite(r);
  rects_[best] = rects_.back();
  rects_.pop_back();
  add(merged);
}

Rect Damage::bounds() const {
  Rect b;
  for (const auto& r : rects_) b = b.unite(r);
  return b;
}

long long Damage::area() const {
  long long sum = 0;
  for (const auto& r : rects_) sum += r.area();
  return sum;
}

Damage Damage::intersect(const Rect& clip) const {
  Damage out;
  for (const auto& r : rects_) {
    const Rect c = r.intersect(clip);
    if (!c.empty()) out.rects_.push_back(c);
  }
  return out;
}

void Damage::subtract(const Rect& cut) {
  std::vector<Rect> kept;
  kept.reserve(rects_.size());
  for (const auto& r : rects_)
    if (const Rect rest = r.minus(cut); !rest.empty()) kept.push_back(rest);
  rects_.swap(kept);
}

Damage Damage::translated(int dx, int dy) const {
  Damage out;
  out.rects_.reserve(rects_.size());
  for (const auto& r : rects_) out.rects_.push_back(r.translated(dx, dy));
  return out;
}

}  // namespace vncgate::framebuffer
