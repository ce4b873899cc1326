// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "framebuffer/pixel.hpp"

namespace vncgate::framebuffer {

// A compressed copy of a pixel array (PixelBuffer::compact). Consoles show a handful of colours, so pixels
// become palette indices (4 bits each up to 16 colours, 8 up to 256) before zlib level 1: a quarter or an
// eighth of the bytes to deflate, and repeated glyphs stay byte-aligned for its matcher. More colours: the
// pixels themselves are deflated. bench/framebuffer_bench measures the choice.
struct PackedPixels {
  std::vector<Pixel> palette;      // empty when `bits` is 32
  int bits = 32;                   // per pixel before zlib: 4, 8 or 32
  std::vector<std::uint8_t> data;  // one zlib stream, exactly sized
  std::size_t count = 0;           // pixels

  std::size_t heap_bytes() const { return palette.capacity() * sizeof(Pixel) + data.capacity(); }
};

// Throws std::bad_alloc when zlib cannot get memory.
PackedPixels pack(std::span<const Pixel> pixels);
// Restores exactly what pack() was given; `pixels` must hold packed.count. A corrupt copy (a bug: the data
// never leaves the process) throws std::logic_error.
void unpack(const PackedPixels& packed, std::span<Pixel> pixels);
// The same for a copy read from a file (an FBS checkpoint): false when it is corrupt or does not fit.
bool unpack_checked(const PackedPixels& packed, std::span<Pixel> pixels);

}  // namespace vncgate::framebuffer
