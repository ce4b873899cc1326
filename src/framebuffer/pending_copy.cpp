// SPDX-License-Identifier: Apache-2.0
#include "framebuffer/pending_copy.hpp"

#include <algorithm>
#include <tuple>

namespace vncgate::framebuffer {
namespace {

// Appends `a` without `b` to `out` as up to four disjoint rectangles (bands above and below, then left and
// right of the cut).
void subtract(const Rect& a, const Rect& b, std::vector<Rect>& out) {
  const Rect cut = a.intersect(b);
  if (cut.empty()) {
    out.push_back(a);
    return;
  }
  const Rect parts[] = {{a.x, a.y, a.w, cut.y - a.y},
                        {a.x, cut.bottom(), a.w, a.bottom() - cut.bottom()},
                        {a.x, cut.y, cut.x - a.x, cut.h},
                        {cut.right(), cut.y, a.right() - cut.right(), cut.h}};
  for (const auto& p : parts)
    if (!p.empty()) out.push_back(p);
}

// Marks what is left of `r` after taking `cuts` away as dirty. Past a few hundred fragments the rest stays
// whole (more than needed, never less).
void add_remainder(const Rect& r, std::span<const Rect> cuts, Damage& dirty) {
  constexpr std::size_t kMaxFragments = 256;
  std::vector<Rect> left{r}, next;
  for (const auto& cut : cuts) {
    if (left.empty() || left.size() > kMaxFragments) break;
    next.clear();
    for (const auto& l : left) subtract(l, cut, next);
    left.swap(next);
  }
  for (const auto& l : left) dirty.add(l);
}

long long total_area(std::span<const Rect> rects) {
  long long sum = 0;
  for (const auto& r : rects) sum += r.area();
  return sum;
}

}  // namespace

long long PendingCopy::area() const { return total_area(pieces_); }

void PendingCopy::add(std::span<const Rect> dsts, int dx, int dy, Damage& dirty) {
  if (dsts.empty()) return;
  // Pixels the viewer has not been sent yet move with the copy: still to send, at their new place.
  Damage moved;
  for (const auto& d : dsts) moved.add(dirty.intersect(d.translated(-dx, -dy)).translated(dx, dy));

  if (pieces_.empty()) {
    pieces_.assign(dsts.begin(), dsts.end());
    dx_ = dx, dy_ = dy;
  } else {
    // What the new step reads from the pending copies' destinations is one copy from the original place,
    // by both offsets; the rest of both becomes pixels.
    std::vector<Rect> composed;
    for (const auto& d : dsts)
      for (const auto& p : pieces_) {
        const Rect part = d.translated(-dx, -dy).intersect(p).translated(dx, dy);
        if (!part.empty()) composed.push_back(part);
      }
    if (composed.empty()) {  // unrelated to the pending copy: keep the bigger one as a copy
      if (area() >= total_area(dsts)) {
        for (const auto& d : dsts) dirty.add(d);
        return;
      }
      drop_into(dirty);
      pieces_.assign(dsts.begin(), dsts.end());
      dx_ = dx, dy_ = dy;
    } else {
      for (const auto& d : dsts) add_remainder(d, composed, dirty);
      for (const auto& p : pieces_) add_remainder(p, composed, dirty);
      pieces_ = std::move(composed);
      dx_ += dx, dy_ += dy;
    }
  }
  dirty.add(moved);
  order(dirty);
}

void PendingCopy::drop_into(Damage& dirty) {
  for (const auto& p : pieces_) dirty.add(p);
  pieces_.clear();
}

void PendingCopy::order(Damage& dirty) {
  if (dx_ == 0 && dy_ == 0) {  // moved back where it was: the viewer already holds those pixels
    pieces_.clear();
    return;
  }
  if (pieces_.size() > kMaxPieces) {
    std::nth_element(pieces_.begin(), pieces_.begin() + kMaxPieces, pieces_.end(),
                     [](const Rect& a, const Rect& b) { return a.area() > b.area(); });
    for (auto it = pieces_.begin() + kMaxPieces; it != pieces_.end(); ++it) dirty.add(*it);
    pieces_.resize(kMaxPieces);
  }
  // Moving up, the top pieces go first (their sources lie below them); moving left, the left ones.
  const auto key = [&](const Rect& r) { return std::tuple(dy_ < 0 ? r.y : -r.y, dx_ < 0 ? r.x : -r.x, r.y, r.x); };
  std::sort(pieces_.begin(), pieces_.end(), [&](const Rect& a, const Rect& b) { return key(a) < key(b); });
  // A piece reading what an earlier one wrote (possible when moving diagonally) goes as pixels.
  std::vector<Rect> kept;
  kept.reserve(pieces_.size());
  for (const auto& p : pieces_) {
    const Rect src = p.translated(-dx_, -dy_);
    const bool clash = std::any_of(kept.begin(), kept.end(), [&](const Rect& k) { return !k.intersect(src).empty(); });
    if (clash)
      dirty.add(p);
    else
      kept.push_back(p);
  }
  pieces_ = std::move(kept);
}

}  // namespace vncgate::framebuffer
