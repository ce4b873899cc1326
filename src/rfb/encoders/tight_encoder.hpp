// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "framebuffer/colour_palette.hpp"
#include "framebuffer/pixel_buffer.hpp"
#include "rfb/encoders/deflater.hpp"
#include "rfb/encoders/pixel_encoder.hpp"
#include "rfb/encoders/pixel_writer.hpp"

namespace vncgate::rfb {

// Tight (rfbproto "Tight Encoding"). Rectangles are cut to the spec's limits (2048 pixels wide, 64K pixels),
// then each is sent as a solid fill, a palette (2-256 colours, 1 or 8 bit indices) or full colour through the
// copy filter, with zlib streams 0 (full colour), 1 (two colours) and 2 (palette). Every encode() restarts the
// streams it uses (raw deflate, see Deflater), so its output does not depend on earlier calls: one update's bytes
// serve every viewer that asked for the same one, whenever it joined (append_pixels adds the zlib header a
// viewer's first data on a stream needs). Reset bits are never sent: noVNC 1.3's inflater (pako) keeps no window
// after inflateReset, so any later rectangle referring back past its own start failed to inflate there.
// With a JPEG quality set, areas of more than 256 colours are cut into 64x64 tiles and the tiles that still
// have too many colours go as JPEG; the rest stays lossless, so text never blurs.
// With `keep_history` (one viewer's own encoder, ViewerEncoders) the streams are not restarted between calls:
// later data refers back into earlier updates, as a VNC server's own Tight streams do.
class TightEncoder {
 public:
  explicit TightEncoder(bool keep_history = false);
  ~TightEncoder();
  TightEncoder(const TightEncoder&) = delete;
  TightEncoder& operator=(const TightEncoder&) = delete;

  // From the viewer's pseudo-encodings: compression level 0-9, JPEG quality 0-9 or -1 for lossless only.
  void configure(int compress_level, int jpeg_quality);

  // Appends complete rectangles (header and payload) covering the areas `rects` of `fb` (each inside it) in
  // `writer`'s format to `out` (empty), counting them and noting where each zlib stream starts.
  void encode(const framebuffer::PixelBuffer& fb, std::span<const framebuffer::Rect> rects, const PixelWriter& writer,
              EncodedPixels& out);

 private:
  void encode_part(const framebuffer::PixelBuffer& fb, const framebuffer::Rect& r, const PixelWriter& writer,
                   EncodedPixels& out);
  void write_fill(framebuffer::Pixel colour, const PixelWriter& writer, std::vector<std::uint8_t>& out);
  void write_palette(const framebuffer::PixelBuffer& fb, const framebuffer::Rect& r, const PixelWriter& writer,
                     EncodedPixels& out);
  void write_full_colour(const framebuffer::PixelBuffer& fb, const framebuffer::Rect& r, const PixelWriter& writer,
                         EncodedPixels& out);
  void write_jpeg(const framebuffer::PixelBuffer& fb, const framebuffer::Rect& r, std::vector<std::uint8_t>& out);
  // Appends control byte `type`, `header` (filter id, palette) and the filter output `data_`, through zlib
  // stream `stream` unless shorter than 12 bytes.
  void write_data(unsigned type, int stream, EncodedPixels& out, const std::vector<std::uint8_t>& header);
  void put_tpixel(std::vector<std::uint8_t>& out, framebuffer::Pixel p, const PixelWriter& writer) const;

  struct Jpeg;
  std::array<Deflater, 4> streams_;
  bool keep_history_;
  int compress_level_ = 1;
  int jpeg_quality_ = -1;
  std::unique_ptr<Jpeg> jpeg_;
  framebuffer::ColourPalette palette_;
  std::vector<std::uint8_t> data_;  // one rectangle's filter output before compression
};

}  // namespace vncgate::rfb
