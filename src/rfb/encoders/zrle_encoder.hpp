// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "framebuffer/pixel_buffer.hpp"
#include "rfb/encoders/deflater.hpp"
#include "rfb/encoders/pixel_writer.hpp"

namespace vncgate::rfb {

// ZRLE (RFC 6143 §7.7.6) for one viewer: 64x64 tiles as solid, packed palette (2-16 colours) or raw CPIXELs,
// through one zlib deflate stream that lives as long as the connection (the viewer's inflater persists too).
class ZrleEncoder {
 public:
  ZrleEncoder();
  ~ZrleEncoder();
  ZrleEncoder(const ZrleEncoder&) = delete;
  ZrleEncoder& operator=(const ZrleEncoder&) = delete;

  // Appends the rectangle's payload (u32 length + zlib data) for `r` of `fb`; `r` must lie inside `fb`.
  void encode(const framebuffer::PixelBuffer& fb, const framebuffer::Rect& r, const PixelWriter& writer,
              std::vector<std::uint8_t>& out);

 private:
  void encode_tile(const framebuffer::PixelBuffer& fb, const framebuffer::Rect& t, const PixelWriter& writer);

  Deflater deflater_;
  std::vector<std::uint8_t> tiles_;  // uncompressed tile data of the current rectangle
};

}  // namespace vncgate::rfb
