// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <cstdint>

#include "framebuffer/pixel_buffer.hpp"

namespace vncgate::rfb {

// The distinct colours of an area, up to 256, with their first-seen order as palette index: an open-addressing
// table, so counting a 64K-pixel rectangle stays a few loads per pixel.
class ColourPalette {
 public:
  static constexpr int kMaxColours = 256;

  // Collects the colours of `r` in `fb`, stopping once more than `limit` (<= 256) are seen; returns size().
  int collect(const framebuffer::PixelBuffer& fb, const framebuffer::Rect& r, int limit);
  // More colours than the limit given to collect().
  bool overflowed() const { return overflowed_; }
  int size() const { return size_; }
  framebuffer::Pixel colour(int index) const { return colours_[static_cast<std::size_t>(index)]; }
  // Index of a colour known to be in the palette.
  int index(framebuffer::Pixel p) const;

 private:
  static constexpr std::size_t kSlots = 1024;  // power of two, 4x the colours: short probe runs
  static std::size_t slot(framebuffer::Pixel p) { return (p * 2654435761u) >> 22 & (kSlots - 1); }
  void clear();
  // Index of `p`, inserting it when new; -1 when the palette is full.
  int find_or_add(framebuffer::Pixel p, int limit);

  std::array<std::int16_t, kSlots> slots_;  // -1 empty, else index into colours_
  std::array<framebuffer::Pixel, kMaxColours> colours_{};
  int size_ = 0;
  bool overflowed_ = false;
};

}  // namespace vncgate::rfb
