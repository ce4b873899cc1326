// SPDX-License-Identifier: Apache-2.0
#include "rfb/decoders/zrle_decoder.hpp"

#include <algorithm>
#include <array>
#include <string>

#include "rfb/decoders/zlib_decoder.hpp"
#include "util/checked.hpp"
#include "util/error.hpp"

namespace vncgate::rfb {
namespace {

constexpr int kTileSize = 64;
constexpr int kMaxPaletteRle = 127;

// The inflated bytes of one rectangle, read front to back with bounds checks.
struct Reader {
  const std::uint8_t* p;
  const std::uint8_t* end;

  void need(std::size_t n) const {
    if (static_cast<std::size_t>(end - p) < n) throw ProtocolError("zrle: tile data ends early");
  }
  std::uint8_t u8() {
    need(1);
    return *p++;
  }
  // Run length (RFC 6143 §7.7.6): bytes of 255 followed by one smaller byte, plus one. Throws as soon as the
  // run passes `remaining` pixels (it can only grow), so a hostile run never loops long or overflows.
  std::size_t run_length(std::size_t remaining) {
    std::size_t length = 1;
    for (;;) {
      const std::uint8_t b = u8();
      length += b;
      if (length > remaining)
        throw ProtocolError("zrle: run of " + std::to_string(length) + " pixels passes the end of its tile");
      if (b != 255) return length;
    }
  }
};

// Writes pixels into one tile of the framebuffer in raster order, straight into its rows (each reached through
// row(): rows need not follow each other in memory, see PixelBuffer).
class TileWriter {
 public:
  TileWriter(PixelBuffer& fb, const Rect& t)
      : fb_(fb),
        tile_(t),
        row_(fb.row(t.y) + t.x),
        w_(t.w),
        remaining_(static_cast<std::size_t>(t.w) * static_cast<std::size_t>(t.h)) {}

  std::size_t remaining() const { return remaining_; }

  // `n` <= remaining() pixels of one colour, possibly over several rows.
  void run(Pixel colour, std::size_t n) {
    remaining_ -= n;
    if (x_ + n < w_) {  // the common short run inside one row
      std::fill_n(row_ + x_, n, colour);
      x_ += n;
      return;
    }
    while (n > 0) {
      const std::size_t k = std::min(n, w_ - x_);
      std::fill_n(row_ + x_, k, colour);
      n -= k;
      x_ += k;
      if (x_ == w_) next_row();
    }
  }
  void pixel(Pixel colour) {
    --remaining_;
    row_[x_] = colour;
    if (++x_ == w_) next_row();
  }

 private:
  void next_row() {
    x_ = 0;
    ++y_;
    if (y_ < tile_.h) row_ = fb_.row(tile_.y + y_) + tile_.x;
  }

  PixelBuffer& fb_;
  Rect tile_;
  Pixel* row_;
  std::size_t w_;
  std::size_t x_ = 0;
  int y_ = 0;
  std::size_t remaining_;
};

void read_palette(Reader& in, std::size_t n, std::size_t cpixel, const PixelConverter& conv, Pixel* palette) {
  in.need(n * cpixel);
  conv.convert_cpixels(in.p, palette, n);
  in.p += n * cpixel;
}

[[noreturn]] void bad_index(unsigned index, std::size_t size) {
  throw ProtocolError("zrle: palette index " + std::to_string(index) + " beyond " + std::to_string(size) + " colours");
}

// Marks palette slots beyond the palette's size; no canonical pixel has bits above 24 set.
constexpr Pixel kInvalidIndex = 0xff000000u;

// Packed palette (subencodings 2..16): `Bits` (1, 2 or 4) per index, most significant first, rows byte-padded.
// `palette` has all 16 slots, unused ones kInvalidIndex, so the hot loop needs no per-pixel range check.
template <unsigned Bits>
void unpack_rows(const std::uint8_t* src, const Rect& t, const Pixel* palette, PixelBuffer& fb) {
  constexpr unsigned kPerByte = 8 / Bits;
  constexpr unsigned kMask = (1u << Bits) - 1;
  const auto w = static_cast<std::size_t>(t.w);
  const std::size_t whole = w / kPerByte, rest = w % kPerByte;
  Pixel seen = 0;
  for (int y = 0; y < t.h; ++y) {
    Pixel* out = fb.row(t.y + y) + t.x;
    for (std::size_t i = 0; i < whole; ++i, out += kPerByte) {
      const unsigned byte = *src++;
      for (unsigned k = 0; k < kPerByte; ++k) seen |= out[k] = palette[(byte >> (8 - Bits * (k + 1))) & kMask];
    }
    if (rest) {
      const unsigned byte = *src++;
      for (unsigned k = 0; k < rest; ++k) seen |= out[k] = palette[(byte >> (8 - Bits * (k + 1))) & kMask];
    }
  }
  if (seen & kInvalidIndex) throw ProtocolError("zrle: packed palette index beyond the palette");
}

void packed_palette_tile(Reader& in, const Rect& t, std::size_t size, std::size_t cpixel, const PixelConverter& conv,
                         PixelBuffer& fb) {
  std::array<Pixel, 16> palette;
  palette.fill(kInvalidIndex);
  read_palette(in, size, cpixel, conv, palette.data());
  const unsigned bits = size == 2 ? 1 : size <= 4 ? 2 : 4;
  const std::size_t bytes = (static_cast<std::size_t>(t.w) * bits + 7) / 8 * static_cast<std::size_t>(t.h);
  in.need(bytes);
  if (bits == 1)
    unpack_rows<1>(in.p, t, palette.data(), fb);
  else if (bits == 2)
    unpack_rows<2>(in.p, t, palette.data(), fb);
  else
    unpack_rows<4>(in.p, t, palette.data(), fb);
  in.p += bytes;
}

void plain_rle_tile(Reader& in, const Rect& t, std::size_t cpixel, const PixelConverter& conv, PixelBuffer& fb) {
  TileWriter out(fb, t);
  while (out.remaining() > 0) {
    in.need(cpixel);
    const Pixel colour = conv.cpixel(in.p);
    in.p += cpixel;
    out.run(colour, in.run_length(out.remaining()));
  }
}

void palette_rle_tile(Reader& in, const Rect& t, std::size_t size, std::size_t cpixel, const PixelConverter& conv,
                      PixelBuffer& fb) {
  std::array<Pixel, kMaxPaletteRle> palette;
  read_palette(in, size, cpixel, conv, palette.data());
  TileWriter out(fb, t);
  while (out.remaining() > 0) {
    const unsigned b = in.u8();
    const unsigned index = b & 0x7f;
    if (index >= size) bad_index(index, size);
    if (b & 0x80) {
      out.run(palette[index], in.run_length(out.remaining()));
    } else {
      out.pixel(palette[index]);
    }
  }
}

void decode_tile(Reader& in, const Rect& t, std::size_t cpixel, const PixelConverter& conv, PixelBuffer& fb) {
  const unsigned subencoding = in.u8();
  if (subencoding == 0) {
    const auto w = static_cast<std::size_t>(t.w);
    in.need(w * static_cast<std::size_t>(t.h) * cpixel);
    for (int y = 0; y < t.h; ++y, in.p += w * cpixel) conv.convert_cpixels(in.p, fb.row(t.y + y) + t.x, w);
  } else if (subencoding == 1) {
    in.need(cpixel);
    const Pixel colour = conv.cpixel(in.p);
    in.p += cpixel;
    fb.fill(t, colour);
  } else if (subencoding <= 16) {
    packed_palette_tile(in, t, subencoding, cpixel, conv, fb);
  } else if (subencoding == 128) {
    plain_rle_tile(in, t, cpixel, conv, fb);
  } else if (subencoding >= 130) {
    palette_rle_tile(in, t, subencoding - 128, cpixel, conv, fb);
  } else {
    throw ProtocolError("zrle: unused subencoding " + std::to_string(subencoding));
  }
}

}  // namespace

bool ZrleDecoder::gather(InBuffer& in, const Rect&, const PixelFormat&, std::vector<std::uint8_t>& payload) {
  return gather_length_prefixed(in, payload, "zrle");
}

void ZrleDecoder::decode(std::span<const std::uint8_t> payload, const Rect& r, const PixelConverter& conv,
                         PixelBuffer& fb) {
  const auto cpixel = static_cast<std::size_t>(conv.format().cpixel_bytes());
  // The largest a valid rectangle inflates to: every pixel a plain-RLE run of one (CPIXEL + 1 byte), plus per
  // tile a subencoding byte and the largest palette. More output means a hostile or desynchronised stream.
  const auto tiles =
      checked_mul(static_cast<std::size_t>((r.w + kTileSize - 1) / kTileSize),
                  static_cast<std::size_t>((r.h + kTileSize - 1) / kTileSize), 1 + kMaxPaletteRle * cpixel);
  const auto pixels = checked_mul(static_cast<std::size_t>(r.w), static_cast<std::size_t>(r.h), cpixel + 1);
  const auto max_out = tiles && pixels ? checked_add(*tiles, *pixels) : std::nullopt;
  if (!max_out) throw ProtocolError("zrle: rectangle too large");

  tiles_.clear();
  zlib_.inflate_all(payload, tiles_, *max_out);
  Reader in{tiles_.data(), tiles_.data() + tiles_.size()};
  for (int ty = r.y; ty < r.bottom(); ty += kTileSize) {
    const int th = std::min(kTileSize, r.bottom() - ty);
    for (int tx = r.x; tx < r.right(); tx += kTileSize)
      decode_tile(in, {tx, ty, std::min(kTileSize, r.right() - tx), th}, cpixel, conv, fb);
  }
  if (in.p != in.end) throw ProtocolError("zrle: " + std::to_string(in.end - in.p) + " bytes left after the last tile");
}

}  // namespace vncgate::rfb
