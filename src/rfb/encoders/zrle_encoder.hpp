// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "framebuffer/pixel_buffer.hpp"
#include "rfb/encoders/deflater.hpp"
#include "rfb/encoders/pixel_writer.hpp"

namespace vncgate::rfb {

// ZRLE (RFC 6143 §7.7.6): 64x64 tiles as solid, packed palette (2-16 colours) or raw CPIXELs through zlib.
// The viewer keeps one inflater for the whole connection, but each encode() starts a new zlib stream, so its
// bytes do not depend on earlier calls and can serve every viewer: a viewer's first ZRLE rectangle goes as
// encoded, later ones without the 2-byte zlib header (append_zrle_continued) — raw deflate blocks that never
// refer back past their start are a valid continuation of any stream that ended on a sync flush.
// Appends a ZRLE rectangle made by ZrleEncoder (header, u32 length, zlib data) for a viewer whose inflater has
// already read a zlib header: the header is dropped and the length shortened by 2.
void append_zrle_continued(std::vector<std::uint8_t>& out, std::span<const std::uint8_t> rect);

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
