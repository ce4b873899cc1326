// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "framebuffer/pixel_buffer.hpp"
#include "rfb/encoders/deflater.hpp"
#include "rfb/encoders/pixel_encoder.hpp"
#include "rfb/encoders/pixel_writer.hpp"

namespace vncgate::rfb {

// ZRLE (RFC 6143 §7.7.6): 64x64 tiles as solid, packed palette (2-16 colours) or raw CPIXELs through zlib.
// The viewer keeps one inflater for the whole connection, but each encode() restarts the deflate stream without
// history (see Deflater), so its bytes do not depend on earlier calls and can serve every viewer; a viewer's
// first ZRLE rectangle gets the zlib header in front (append_pixels).
// With `keep_history` (ViewerEncoders) the stream goes on from one call to the next instead.
class ZrleEncoder {
 public:
  explicit ZrleEncoder(bool keep_history = false);
  ~ZrleEncoder();
  ZrleEncoder(const ZrleEncoder&) = delete;
  ZrleEncoder& operator=(const ZrleEncoder&) = delete;

  // Appends one ZRLE rectangle (header, u32 length, deflate data) per area of `fb` (each inside it) to `out`
  // (empty), the first restarting the stream and the others continuing it.
  void encode(const framebuffer::PixelBuffer& fb, std::span<const framebuffer::Rect> rects, const PixelWriter& writer,
              EncodedPixels& out);

 private:
  void encode_tile(const framebuffer::PixelBuffer& fb, const framebuffer::Rect& t, const PixelWriter& writer);

  Deflater deflater_;
  bool keep_history_;
  std::vector<std::uint8_t> tiles_;  // uncompressed tile data of the current rectangle
};

}  // namespace vncgate::rfb
