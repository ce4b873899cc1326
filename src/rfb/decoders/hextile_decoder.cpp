// SPDX-License-Identifier: Apache-2.0
#include "rfb/decoders/hextile_decoder.hpp"

#include <algorithm>

#include "util/error.hpp"

namespace vncgate::rfb {
namespace {

enum : std::uint8_t {
  kRaw = 1,
  kBackgroundSpecified = 2,
  kForegroundSpecified = 4,
  kAnySubrects = 8,
  kSubrectsColoured = 16,
};

template <typename Fn>
void for_each_tile(const Rect& r, Fn&& fn) {
  for (int ty = r.y; ty < r.bottom(); ty += 16)
    for (int tx = r.x; tx < r.right(); tx += 16) fn(Rect{tx, ty, std::min(16, r.right() - tx), std::min(16, r.bottom() - ty)});
}

}  // namespace

bool HextileDecoder::gather(InBuffer& in, const Rect& r, const PixelFormat& pf, std::vector<std::uint8_t>& payload) {
  // Walk the tile structure only to learn the payload's length; nothing is decoded here.
  const std::size_t start = in.position();
  const auto bpp = static_cast<std::size_t>(pf.bytes_per_pixel());
  bool complete = true;
  for_each_tile(r, [&](const Rect& t) {
    if (!complete) return;
    if (!in.has(1)) return void(complete = false);
    const std::uint8_t flags = in.u8();
    std::size_t need = 0;
    if (flags & kRaw) {
      need = static_cast<std::size_t>(t.w) * t.h * bpp;
    } else {
      if (flags & kBackgroundSpecified) need += bpp;
      if (flags & kForegroundSpecified) need += bpp;
      if (flags & kAnySubrects) {
        if (!in.has(need + 1)) return void(complete = false);
        in.skip(need);
        const std::size_t count = in.u8();
        need = count * ((flags & kSubrectsColoured) ? bpp + 2 : 2);
      }
    }
    if (!in.has(need)) return void(complete = false);
    in.skip(need);
  });
  if (!complete) return false;
  const std::size_t end = in.position();
  // All bytes from `start` to `end` are still in the buffer (no append happened in between).
  const std::uint8_t* base = in.peek() - (end - start);
  payload.insert(payload.end(), base, base + (end - start));
  return true;
}

void HextileDecoder::decode(std::span<const std::uint8_t> payload, const Rect& r, const PixelConverter& conv,
                            PixelBuffer& fb) {
  const auto bpp = static_cast<std::size_t>(conv.format().bytes_per_pixel());
  const std::uint8_t* p = payload.data();
  const std::uint8_t* end = p + payload.size();
  auto need = [&](std::size_t n) {
    if (static_cast<std::size_t>(end - p) < n) throw ProtocolError("hextile: truncated tile data");
  };
  Pixel background = 0, foreground = 0;
  Pixel tile_pixels[16 * 16];
  for_each_tile(r, [&](const Rect& t) {
    need(1);
    const std::uint8_t flags = *p++;
    if (flags & kRaw) {
      const std::size_t n = static_cast<std::size_t>(t.w) * t.h;
      need(n * bpp);
      conv.convert(p, tile_pixels, n);
      p += n * bpp;
      fb.put(t, tile_pixels, t.w);
      return;
    }
    if (flags & kBackgroundSpecified) {
      need(bpp);
      background = conv.pixel(p);
      p += bpp;
    }
    fb.fill(t, background);
    if (flags & kForegroundSpecified) {
      need(bpp);
      foreground = conv.pixel(p);
      p += bpp;
    }
    if (!(flags & kAnySubrects)) return;
    need(1);
    const int count = *p++;
    const bool coloured = flags & kSubrectsColoured;
    need(static_cast<std::size_t>(count) * (coloured ? bpp + 2 : 2));
    for (int i = 0; i < count; ++i) {
      Pixel colour = foreground;
      if (coloured) {
        colour = conv.pixel(p);
        p += bpp;
      }
      const int x = p[0] >> 4, y = p[0] & 15, w = (p[1] >> 4) + 1, h = (p[1] & 15) + 1;
      p += 2;
      if (x + w > t.w || y + h > t.h) throw ProtocolError("hextile: subrectangle outside its tile");
      fb.fill({t.x + x, t.y + y, w, h}, colour);
    }
  });
  if (p != end) throw ProtocolError("hextile: trailing bytes after the last tile");
}

}  // namespace vncgate::rfb
