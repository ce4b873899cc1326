// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <cstdint>

#include "framebuffer/pixel_buffer.hpp"

namespace vncgate::framebuffer {

// The distinct colours of an area, up to 256, with their first-seen order as palette index: an open-addressing
// table, so counting a 64K-pixel rectangle stays a few loads per pixel. Tight's palettes and the compacted
// pictures of hibernating sessions (pixel_packing.cpp) are both built with it.
class ColourPalette {
 public:
  static constexpr int kMaxColours = 256;

  // Collects the colours of `r` in `fb`, stopping once more than `limit` (<= 256) are seen; returns size().
  int collect(const PixelBuffer& fb, const Rect& r, int limit);
  // More colours than the limit given to collect().
  bool overflowed() const { return overflowed_; }
  int size() const { return size_; }
  Pixel colour(int index) const { return colours_[static_cast<std::size_t>(index)]; }
  // Index of a colour known to be in the palette.
  int index(Pixel p) const;
  // For building a palette pixel by pixel: empties it, then add() gives `p`'s index, inserting it when new;
  // -1 when `limit` (<= 256) colours are there already.
  void clear();
  int add(Pixel p, int limit);

 private:
  static constexpr std::size_t kSlots = 1024;  // power of two, 4x the colours: short probe runs
  static std::size_t slot(Pixel p) { return (p * 2654435761u) >> 22 & (kSlots - 1); }

  std::array<std::int16_t, kSlots> slots_;  // -1 empty, else index into colours_
  std::array<Pixel, kMaxColours> colours_{};
  int size_ = 0;
  bool overflowed_ = false;
};

}  // namespace vncgate::framebuffer
