// SPDX-License-Identifier: Apache-2.0
#include "framebuffer/copy_batch.hpp"

#include <algorithm>

namespace vncgate::framebuffer {

bool CopyBatch::add(const Rect& src, int dst_x, int dst_y) {
  const int dx = dst_x - src.x, dy = dst_y - src.y;
  if (!dsts_.empty()) {
    if (dx != dx_ || dy != dy_ || dsts_.size() >= kMaxPieces) return false;
    // Applied one by one, this piece would read what an earlier one wrote: not the same as all at once.
    if (std::any_of(dsts_.begin(), dsts_.end(), [&](const Rect& d) { return !d.intersect(src).empty(); })) return false;
  }
  dx_ = dx;
  dy_ = dy;
  dsts_.push_back({dst_x, dst_y, src.w, src.h});
  return true;
}

void CopyBatch::apply_to(PixelBuffer& fb) {
  if (dsts_.empty()) return;
  fb.copy_all(dsts_, dx_, dy_);
  dsts_.clear();
}

}  // namespace vncgate::framebuffer
