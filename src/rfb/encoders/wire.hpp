// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "framebuffer/rect.hpp"

namespace vncgate::rfb {

// Big-endian writers shared by the server side and its encoders.
inline void put_u8(std::vector<std::uint8_t>& out, unsigned v) { out.push_back(static_cast<std::uint8_t>(v)); }
inline void put_u16(std::vector<std::uint8_t>& out, unsigned v) {
  put_u8(out, (v >> 8) & 0xff);
  put_u8(out, v & 0xff);
}
inline void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  put_u16(out, v >> 16);
  put_u16(out, v & 0xffff);
}
// Tight's compact length (rfbproto "Tight"): 7 bits a byte, low first, the high bit set when another byte
// follows; at most 3 bytes (22 bits).
inline void put_tight_length(std::vector<std::uint8_t>& out, std::size_t n) {
  put_u8(out, (n & 0x7f) | (n > 0x7f ? 0x80 : 0));
  if (n > 0x7f) {
    put_u8(out, ((n >> 7) & 0x7f) | (n > 0x3fff ? 0x80 : 0));
    if (n > 0x3fff) put_u8(out, (n >> 14) & 0xff);
  }
}
// FramebufferUpdate rectangle header (RFC 6143 §7.6.1).
inline void put_rect_header(std::vector<std::uint8_t>& out, const framebuffer::Rect& r, std::int32_t encoding) {
  put_u16(out, static_cast<unsigned>(r.x));
  put_u16(out, static_cast<unsigned>(r.y));
  put_u16(out, static_cast<unsigned>(r.w));
  put_u16(out, static_cast<unsigned>(r.h));
  put_u32(out, static_cast<std::uint32_t>(encoding));
}

}  // namespace vncgate::rfb
