// SPDX-License-Identifier: Apache-2.0
#pragma once

// The byte layout shared by the decoder fuzz targets (tests/fuzz/fuzz_decoder.cpp) and the seeds that
// `vncgate_capture --rects-dir` and tests/fuzz/make_seeds.py write:
//
//   byte 0      pixel format selector: kFormats[byte % kFormats.size()]
//   then records, while bytes remain:
//     x, y, w, h  u16 big endian; clamped so the rect lies inside a kFramebufferSize² framebuffer
//     wire bytes  what follows the 12-byte rectangle header in a FramebufferUpdate (RFC 6143 §7.6.1); the
//                 decoder's gather() takes what it needs and the next record starts right after
//
// All records go through one decoder instance, so zlib streams (Zlib, Tight, ZRLE) persist across them as on
// a connection. Header-only: the capture tool in bench/ uses it too.

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "framebuffer/rect.hpp"
#include "rfb/pixel_format.hpp"

namespace vncgate::fuzz {

constexpr int kFramebufferSize = 256;
constexpr std::size_t kRecordHeader = 8;

struct NamedFormat {
  std::string_view name;
  rfb::PixelFormat format;
};

inline rfb::PixelFormat big_endian(rfb::PixelFormat pf) {
  pf.big_endian = true;
  return pf;
}

// Selector values are stable (committed seeds depend on them): append only.
inline const std::array<NamedFormat, 6>& formats() {
  static const std::array<NamedFormat, 6> kFormats{{
      {"canonical", rfb::PixelFormat::canonical()},
      {"rgb565", rfb::PixelFormat::rgb565()},
      {"rgb565be", big_endian(rfb::PixelFormat::rgb565())},
      {"bgr233", rfb::PixelFormat::bgr233()},
      {"colourmap8", rfb::PixelFormat::colour_map8()},
      {"canonical-be", big_endian(rfb::PixelFormat::canonical())},
  }};
  return kFormats;
}

inline std::optional<std::uint8_t> format_selector(std::string_view name) {
  for (std::size_t i = 0; i < formats().size(); ++i)
    if (formats()[i].name == name) return static_cast<std::uint8_t>(i);
  return std::nullopt;
}

// A converter for the selected format; colour-map formats get a fixed map so indices give varied colours.
inline rfb::PixelConverter make_converter(std::uint8_t selector) {
  const auto& pf = formats()[selector % formats().size()].format;
  rfb::PixelConverter conv(pf);
  if (!pf.true_colour) {
    std::vector<std::array<std::uint16_t, 3>> map(256);
    for (std::size_t i = 0; i < map.size(); ++i)
      map[i] = {static_cast<std::uint16_t>(i * 257), static_cast<std::uint16_t>((255 - i) * 257),
                static_cast<std::uint16_t>((i * 37 % 256) * 257)};
    conv.set_colour_map_entries(0, map);
  }
  return conv;
}

// The rect a record header describes, after clamping: w, h <= kFramebufferSize and inside the framebuffer.
inline framebuffer::Rect clamp_rect(unsigned x, unsigned y, unsigned w, unsigned h) {
  framebuffer::Rect r;
  r.w = static_cast<int>(std::min<unsigned>(w, kFramebufferSize));
  r.h = static_cast<int>(std::min<unsigned>(h, kFramebufferSize));
  r.x = static_cast<int>(std::min<unsigned>(x, static_cast<unsigned>(kFramebufferSize - r.w)));
  r.y = static_cast<int>(std::min<unsigned>(y, static_cast<unsigned>(kFramebufferSize - r.h)));
  return r;
}

// True when a real rectangle can be replayed as a record without changing its size (and so its wire bytes).
inline bool fits(const framebuffer::Rect& r) { return r.w <= kFramebufferSize && r.h <= kFramebufferSize; }

inline void append_u16(std::vector<std::uint8_t>& out, unsigned v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}

inline void append_record(std::vector<std::uint8_t>& out, const framebuffer::Rect& r,
                          std::span<const std::uint8_t> wire) {
  const auto c = clamp_rect(static_cast<unsigned>(r.x), static_cast<unsigned>(r.y), static_cast<unsigned>(r.w),
                            static_cast<unsigned>(r.h));
  append_u16(out, static_cast<unsigned>(c.x));
  append_u16(out, static_cast<unsigned>(c.y));
  append_u16(out, static_cast<unsigned>(c.w));
  append_u16(out, static_cast<unsigned>(c.h));
  out.insert(out.end(), wire.begin(), wire.end());
}

}  // namespace vncgate::fuzz
