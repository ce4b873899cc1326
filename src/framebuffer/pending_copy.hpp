// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <span>
#include <vector>

#include "framebuffer/damage.hpp"
#include "framebuffer/rect.hpp"

namespace vncgate::framebuffer {

// The copies a viewer is owed before its dirty pixels: disjoint pieces all moved by one offset (destination
// minus source), the way a VNC server reports a scrolling terminal (TigerVNC's Xvnc sends one scroll as up to
// a dozen CopyRects around the cursor and the scrollbar). Copies compose while the viewer has not been sent
// them (scrolling twice is one copy by the sum); dirty pixels in a source move with the copy; whatever cannot
// be replayed as a copy goes into the caller's dirty pixels instead. A copy only saves bytes, so giving up is
// always correct.
class PendingCopy {
 public:
  static constexpr std::size_t kMaxPieces = 64;  // beyond: the smallest pieces become pixels

  bool empty() const { return pieces_.empty(); }
  // In sending order: a viewer applying them one after the other never reads a pixel an earlier one wrote,
  // which makes the sequence the same as moving all of them at once.
  const std::vector<Rect>& pieces() const { return pieces_; }
  int dx() const { return dx_; }
  int dy() const { return dy_; }
  long long area() const;

  // The picture changed by one step: each of `dsts` (disjoint) got the pixels at dst - (dx, dy), all read
  // before any was written. `dirty` holds what the viewer must be sent as pixels after the copies; it is
  // updated (moved with the copy, and given what cannot be a copy).
  void add(std::span<const Rect> dsts, int dx, int dy, Damage& dirty);
  // Gives up on the copies: their destinations are sent as pixels.
  void drop_into(Damage& dirty);
  void clear() { pieces_.clear(); }

 private:
  // Puts `pieces_` in sending order, moving the pieces no order can serve (and the smallest beyond
  // kMaxPieces) to `dirty`.
  void order(Damage& dirty);

  std::vector<Rect> pieces_;
  int dx_ = 0, dy_ = 0;
};

}  // namespace vncgate::framebuffer
