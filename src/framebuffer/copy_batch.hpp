// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <vector>

#include "framebuffer/pixel_buffer.hpp"
#include "framebuffer/rect.hpp"

namespace vncgate::framebuffer {

// The CopyRects of one update, applied together. A server sends a terminal's scroll as several pieces with one
// offset (Xvnc: seven around the pointer it draws), in an order where no piece reads what an earlier one wrote;
// applying them one by one made each wide piece save and restore the rows the next piece then overwrote.
// Together, the rows turn once (PixelBuffer::copy_all) and only what no piece covers is kept.
class CopyBatch {
 public:
  static constexpr std::size_t kMaxPieces = 64;

  bool empty() const { return dsts_.empty(); }
  // Adds the copy of `src` to (dst_x, dst_y) when it can go in one step with the pieces before it: the same
  // offset, and a source no earlier piece writes. Otherwise (or when full) adds nothing and returns false: the
  // caller applies the batch and starts a new one with it.
  bool add(const Rect& src, int dst_x, int dst_y);
  // Applies the pieces as the server meant them, one after the other, and empties the batch.
  void apply_to(PixelBuffer& fb);

 private:
  std::vector<Rect> dsts_;
  int dx_ = 0, dy_ = 0;
};

}  // namespace vncgate::framebuffer
