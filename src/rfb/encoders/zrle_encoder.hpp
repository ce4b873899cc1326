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
// Appends ZRLE rectangles made by ZrleEncoder for a viewer whose inflater has already read a zlib header: the
// first rectangle's zlib header is dropped and its length shortened by 2.
void append_zrle_continued(std::vector<std::uint8_t>& out, std::span<const std::uint8_t> rects);

class ZrleEncoder {
 public:
  ZrleEncoder();
  ~ZrleEncoder();
  ZrleEncoder(const ZrleEncoder&) = delete;
  ZrleEncoder& operator=(const ZrleEncoder&) = delete;

  // Appends one ZRLE rectangle (header, u32 length, zlib data) per area of `fb` (each inside it), the first
  // starting a new zlib stream and the others continuing it; returns how many.
  int encode(const framebuffer::PixelBuffer& fb, std::span<const framebuffer::Rect> rects, const PixelWriter& writer,
             std::vector<std::uint8_t>& out);

 private:
  void encode_tile(const framebuffer::PixelBuffer& fb, const framebuffer::Rect& t, const PixelWriter& writer);

  Deflater deflater_;
  std::vector<std::uint8_t> tiles_;  // uncompressed tile data of the current rectangle
};

}  // namespace vncgate::rfb
