// SPDX-License-Identifier: Apache-2.0
#include "framebuffer/pixel_packing.hpp"

#include <isa-l/igzip_lib.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <limits>
#include <memory>
#include <new>
#include <stdexcept>

#include "framebuffer/colour_palette.hpp"

namespace vncgate::framebuffer {
namespace {

// Maps pixels to palette indices; false once a 257th colour shows up. A run of one colour costs a compare per
// pixel; the palette's table is looked up only where the colour changes.
bool to_indices(std::span<const Pixel> pixels, std::vector<Pixel>& palette, std::vector<std::uint8_t>& indices) {
  ColourPalette colours;
  colours.clear();
  indices.resize(pixels.size());
  int index = -1;
  for (std::size_t i = 0; i < pixels.size(); ++i) {
    if (index < 0 || pixels[i] != pixels[i - 1]) {
      index = colours.add(pixels[i], ColourPalette::kMaxColours);
      if (index < 0) return false;
    }
    indices[i] = static_cast<std::uint8_t>(index);
  }
  palette.clear();
  for (int c = 0; c < colours.size(); ++c) palette.push_back(colours.colour(c));
  return true;
}

// Two indices per byte, the first in the low nibble; in place (the output never overtakes the input).
void pack_nibbles(std::vector<std::uint8_t>& indices) {
  const std::size_t n = indices.size();
  for (std::size_t i = 0; i < n; i += 2)
    indices[i / 2] = static_cast<std::uint8_t>(indices[i] | (i + 1 < n ? indices[i + 1] << 4 : 0));
  indices.resize((n + 1) / 2);
}

// Deflates `in` at level 1 into an exactly sized vector, growing the output in chunks (never a
// compressBound()-sized buffer).
std::vector<std::uint8_t> deflate_all(std::span<const std::uint8_t> in) {
  assert(in.size() <= std::numeric_limits<uInt>::max());  // frames are capped at 64 Mi pixels (256 MiB)
  z_stream z{};
  if (deflateInit2(&z, 1, Z_DEFLATED, 15, 8, Z_DEFAULT_STRATEGY) != Z_OK) throw std::bad_alloc();
  z.next_in = const_cast<Bytef*>(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  std::vector<std::uint8_t> out;
  int rc = Z_OK;
  while (rc == Z_OK) {
    const std::size_t done = out.size();
    out.resize(done + std::max<std::size_t>(4096, done));
    z.next_out = out.data() + done;
    z.avail_out = static_cast<uInt>(out.size() - done);
    rc = deflate(&z, Z_FINISH);
    out.resize(out.size() - z.avail_out);
  }
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw std::logic_error("pixel packing: deflate failed");
  out.shrink_to_fit();
  return out;
}

// ISA-L's one-shot inflate (zlib header and Adler-32 checked as zlib does): 2-3x zlib's speed, which is most
// of a seek's checkpoint restore and a hibernated console's wake-up (a 1280x800 picture is 4 MiB).
bool inflate_exact(std::span<const std::uint8_t> in, std::span<std::uint8_t> out) {
  if (in.size() > std::numeric_limits<std::uint32_t>::max() || out.size() > std::numeric_limits<std::uint32_t>::max())
    return false;
  auto state = std::make_unique_for_overwrite<inflate_state>();  // isal_inflate_init sets what is read
  isal_inflate_init(state.get());
  state->crc_flag = ISAL_ZLIB;
  state->next_in = const_cast<std::uint8_t*>(in.data());
  state->avail_in = static_cast<std::uint32_t>(in.size());
  state->next_out = out.data();
  state->avail_out = static_cast<std::uint32_t>(out.size());
  return isal_inflate_stateless(state.get()) == ISAL_DECOMP_OK && state->total_out == out.size();
}

}  // namespace

PackedPixels pack(std::span<const Pixel> pixels) {
  PackedPixels packed;
  packed.count = pixels.size();
  std::vector<std::uint8_t> indices;
  if (to_indices(pixels, packed.palette, indices)) {
    packed.bits = packed.palette.size() <= 16 ? 4 : 8;
    if (packed.bits == 4) pack_nibbles(indices);
    packed.palette.shrink_to_fit();
    packed.data = deflate_all(indices);
  } else {
    std::vector<Pixel>().swap(packed.palette);
    packed.data = deflate_all({reinterpret_cast<const std::uint8_t*>(pixels.data()), pixels.size_bytes()});
  }
  return packed;
}

void unpack(const PackedPixels& packed, std::span<Pixel> pixels) {
  assert(pixels.size() == packed.count);
  if (!unpack_checked(packed, pixels)) throw std::logic_error("pixel packing: the compressed copy is corrupt");
}

bool unpack_checked(const PackedPixels& packed, std::span<Pixel> pixels) {
  if (pixels.size() != packed.count || (packed.bits != 4 && packed.bits != 8 && packed.bits != 32)) return false;
  if (packed.bits == 32)
    return inflate_exact(packed.data, {reinterpret_cast<std::uint8_t*>(pixels.data()), pixels.size_bytes()});
  const std::size_t n = pixels.size();
  std::vector<std::uint8_t> indices(packed.bits == 4 ? (n + 1) / 2 : n);
  if (!inflate_exact(packed.data, indices)) return false;
  // Every byte value indexes the table, so even a corrupt index cannot read out of bounds.
  std::array<Pixel, 256> colour{};
  std::copy_n(packed.palette.begin(), std::min<std::size_t>(packed.palette.size(), 256), colour.begin());
  if (packed.bits == 8) {
    for (std::size_t i = 0; i < n; ++i) pixels[i] = colour[indices[i]];
  } else {
    for (std::size_t i = 0; i < n; ++i) pixels[i] = colour[(indices[i / 2] >> (i % 2 * 4)) & 0xf];
  }
  return true;
}

}  // namespace vncgate::framebuffer
