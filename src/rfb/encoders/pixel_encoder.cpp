// SPDX-License-Identifier: Apache-2.0
#include "rfb/encoders/pixel_encoder.hpp"

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <utility>

#include "rfb/encoders/deflater.hpp"
#include "rfb/encoders/hextile_encoder.hpp"
#include "rfb/encoders/tight_encoder.hpp"
#include "rfb/encoders/wire.hpp"
#include "rfb/encoders/zrle_encoder.hpp"

namespace vncgate::rfb {

// Created on first use: a thread that never encodes Tight holds no zlib streams for it.
struct ViewerEncoders::Set {
  bool keep_history = false;
  std::unique_ptr<TightEncoder> tight;
  std::unique_ptr<ZrleEncoder> zrle;
  std::unique_ptr<HextileEncoder> hextile;

  EncodedPixels encode(const framebuffer::PixelBuffer& fb, std::span<const framebuffer::Rect> rects,
                       const PixelParams& params);
};

namespace {

ViewerEncoders::Set& this_thread_encoders() {
  thread_local ViewerEncoders::Set encoders;
  return encoders;
}

// Tight's compact length (rfbproto "Tight"): 7 bits a byte, low first, at most 3 bytes. Returns the value and
// how many bytes it took.
std::pair<std::size_t, std::size_t> read_compact(std::span<const std::uint8_t> b, std::size_t at) {
  std::size_t n = 0, used = 0;
  for (int shift = 0; used < 3; shift += 7) {
    if (at + used >= b.size()) throw std::logic_error("append_pixels: length field out of range");
    const unsigned byte = b[at + used++];
    n |= static_cast<std::size_t>(used == 3 ? byte : byte & 0x7f) << shift;
    if (used == 3 || !(byte & 0x80)) break;
  }
  return {n, used};
}

}  // namespace

unsigned EncodedPixels::zlib_streams() const {
  unsigned mask = 0;
  for (std::size_t i = 0; i < zlib_starts.size(); ++i)
    if (zlib_starts[i] >= 0) mask |= 1u << i;
  return mask;
}

void append_pixels(std::vector<std::uint8_t>& out, const EncodedPixels& pixels, Encoding encoding,
                   unsigned fresh_streams) {
  const std::span<const std::uint8_t> b = pixels.bytes;
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i < pixels.zlib_starts.size(); ++i)
    if ((fresh_streams >> i & 1) && pixels.zlib_starts[i] >= 0)
      starts.push_back(static_cast<std::size_t>(pixels.zlib_starts[i]));
  std::sort(starts.begin(), starts.end());
  std::size_t copied = 0;
  for (const std::size_t at : starts) {
    out.insert(out.end(), b.begin() + static_cast<std::ptrdiff_t>(copied), b.begin() + static_cast<std::ptrdiff_t>(at));
    if (encoding == Encoding::zrle) {  // u32 length
      if (at + 4 > b.size()) throw std::logic_error("append_pixels: length field out of range");
      const std::uint32_t n =
          std::uint32_t{b[at]} << 24 | std::uint32_t{b[at + 1]} << 16 | std::uint32_t{b[at + 2]} << 8 | b[at + 3];
      put_u32(out, n + kZlibHeader.size());
      copied = at + 4;
    } else {
      const auto [n, used] = read_compact(b, at);
      put_tight_length(out, n + kZlibHeader.size());
      copied = at + used;
    }
    out.insert(out.end(), kZlibHeader.begin(), kZlibHeader.end());
  }
  out.insert(out.end(), b.begin() + static_cast<std::ptrdiff_t>(copied), b.end());
}

EncodedPixels encode_pixels(const framebuffer::PixelBuffer& fb, std::span<const framebuffer::Rect> rects,
                            const PixelParams& params) {
  return this_thread_encoders().encode(fb, rects, params);
}

ViewerEncoders::ViewerEncoders() : encoders_(std::make_unique<Set>()) { encoders_->keep_history = true; }
ViewerEncoders::~ViewerEncoders() = default;

EncodedPixels ViewerEncoders::encode(const framebuffer::PixelBuffer& fb, std::span<const framebuffer::Rect> rects,
                                     const PixelParams& params) {
  return encoders_->encode(fb, rects, params);
}

EncodedPixels ViewerEncoders::Set::encode(const framebuffer::PixelBuffer& fb, std::span<const framebuffer::Rect> rects,
                                          const PixelParams& params) {
  EncodedPixels out;
  const PixelWriter writer(params.format);
  if (params.encoding == Encoding::zrle) {
    if (!zrle) zrle = std::make_unique<ZrleEncoder>(keep_history);
    zrle->encode(fb, rects, writer, out);
    return out;
  }
  if (params.encoding == Encoding::tight) {
    if (!tight) tight = std::make_unique<TightEncoder>(keep_history);
    tight->configure(params.compress_level, params.jpeg_quality);
    tight->encode(fb, rects, writer, out);
    return out;
  }
  for (const auto& r : rects) {
    switch (params.encoding) {
      case Encoding::hextile:
        if (!hextile) hextile = std::make_unique<HextileEncoder>();
        put_rect_header(out.bytes, r, static_cast<std::int32_t>(Encoding::hextile));
        hextile->encode(fb, r, writer, out.bytes);
        break;
      default:
        put_rect_header(out.bytes, r, static_cast<std::int32_t>(Encoding::raw));
        out.bytes.reserve(out.bytes.size() + static_cast<std::size_t>(r.area()) * params.format.bytes_per_pixel());
        for (int y = r.y; y < r.bottom(); ++y)
          writer.put_pixels(out.bytes, fb.row(y) + r.x, static_cast<std::size_t>(r.w));
    }
    ++out.rects;
  }
  return out;
}

}  // namespace vncgate::rfb
