// SPDX-License-Identifier: Apache-2.0
#include "rfb/encoders/hextile_encoder.hpp"

#include <algorithm>
#include <array>

#include "rfb/encoders/wire.hpp"

namespace vncgate::rfb {
namespace {

constexpr int kTile = 16;
enum : unsigned { kRaw = 1, kBackground = 2, kForeground = 4, kAnySubrects = 8 };

}  // namespace

void HextileEncoder::encode(const framebuffer::PixelBuffer& fb, const framebuffer::Rect& r, const PixelWriter& writer,
                            std::vector<std::uint8_t>& out) {
  background_.reset();  // each rectangle starts without a background (§7.7.4)
  for (int y = r.y; y < r.bottom(); y += kTile)
    for (int x = r.x; x < r.right(); x += kTile)
      encode_tile(fb, {x, y, std::min(kTile, r.right() - x), std::min(kTile, r.bottom() - y)}, writer, out);
}

void HextileEncoder::encode_tile(const framebuffer::PixelBuffer& fb, const framebuffer::Rect& t,
                                 const PixelWriter& writer, std::vector<std::uint8_t>& out) {
  // Up to three colours tell solid, two-colour and many-colour tiles apart; counts pick the background.
  std::array<framebuffer::Pixel, 2> colours{fb.at(t.x, t.y), 0};
  std::array<int, 2> counts{0, 0};
  int distinct = 1;
  for (int y = t.y; y < t.bottom() && distinct <= 2; ++y)
    for (int x = t.x; x < t.right(); ++x) {
      const framebuffer::Pixel p = fb.row(y)[x];
      if (p == colours[0]) {
        ++counts[0];
      } else if (distinct == 2 && p == colours[1]) {
        ++counts[1];
      } else if (distinct == 1) {
        colours[1] = p, counts[1] = 1, distinct = 2;
      } else {
        distinct = 3;
        break;
      }
    }
  const std::size_t bpp = static_cast<std::size_t>(writer.format().bytes_per_pixel());
  const std::size_t raw_size = static_cast<std::size_t>(t.area()) * bpp;
  if (distinct <= 2) {
    const int bg_index = counts[1] > counts[0] ? 1 : 0;
    const framebuffer::Pixel bg = colours[static_cast<std::size_t>(bg_index)];
    const std::uint32_t bg_value = writer.value(bg);
    const bool new_bg = background_ != bg_value;
    const std::size_t fixed = 1 + (new_bg ? bpp : 0);
    if (distinct == 1 || find_subrects(fb, t, bg, raw_size - std::min(raw_size, fixed + bpp + 1))) {
      unsigned mask = new_bg ? unsigned{kBackground} : 0u;
      if (distinct == 2) mask |= kForeground | kAnySubrects;
      put_u8(out, mask);
      if (new_bg) writer.put_pixel(out, bg);
      background_ = bg_value;
      if (distinct == 1) return;
      writer.put_pixel(out, colours[static_cast<std::size_t>(1 - bg_index)]);
      put_u8(out, static_cast<unsigned>(subrects_.size() / 2));
      out.insert(out.end(), subrects_.begin(), subrects_.end());
      return;
    }
  }
  put_u8(out, kRaw);
  for (int y = t.y; y < t.bottom(); ++y) writer.put_pixels(out, fb.row(y) + t.x, static_cast<std::size_t>(t.w));
  background_.reset();  // the background after a raw tile is undefined
}

bool HextileEncoder::find_subrects(const framebuffer::PixelBuffer& fb, const framebuffer::Rect& t,
                                   framebuffer::Pixel bg, std::size_t budget) {
  subrects_.clear();
  std::array<std::uint16_t, kTile> done{};  // bit x of row y: covered by a subrect already
  for (int y = 0; y < t.h; ++y) {
    const auto* row = fb.row(t.y + y) + t.x;
    for (int x = 0; x < t.w; ++x) {
      if (row[x] == bg || (done[static_cast<std::size_t>(y)] >> x & 1)) continue;
      // Widest run from here, then as many rows below as repeat it.
      int w = 1;
      while (x + w < t.w && row[x + w] != bg && !(done[static_cast<std::size_t>(y)] >> (x + w) & 1)) ++w;
      int h = 1;
      for (; y + h < t.h; ++h) {
        const auto* below = fb.row(t.y + y + h) + t.x;
        const auto covered = done[static_cast<std::size_t>(y + h)];
        bool full = true;
        for (int i = x; i < x + w && full; ++i) full = below[i] != bg && !(covered >> i & 1);
        if (!full) break;
      }
      const auto bits = static_cast<std::uint16_t>(((1u << w) - 1) << x);
      for (int i = y; i < y + h; ++i) done[static_cast<std::size_t>(i)] |= bits;
      put_u8(subrects_, static_cast<unsigned>(x << 4 | y));
      put_u8(subrects_, static_cast<unsigned>((w - 1) << 4 | (h - 1)));
      if (subrects_.size() >= budget) return false;
    }
  }
  return true;
}

}  // namespace vncgate::rfb
