// SPDX-License-Identifier: Apache-2.0
#include "rfb/encoders/pixel_encoder.hpp"

#include <memory>

#include "rfb/encoders/hextile_encoder.hpp"
#include "rfb/encoders/tight_encoder.hpp"
#include "rfb/encoders/wire.hpp"
#include "rfb/encoders/zrle_encoder.hpp"

namespace vncgate::rfb {
namespace {

// Created on first use: a thread that never encodes Tight holds no zlib streams for it.
struct Encoders {
  std::unique_ptr<TightEncoder> tight;
  std::unique_ptr<ZrleEncoder> zrle;
  std::unique_ptr<HextileEncoder> hextile;
};

Encoders& this_thread_encoders() {
  thread_local Encoders encoders;
  return encoders;
}

}  // namespace

EncodedPixels encode_pixels(const framebuffer::PixelBuffer& fb, std::span<const framebuffer::Rect> rects,
                            const PixelParams& params) {
  EncodedPixels out;
  const PixelWriter writer(params.format);
  auto& encoders = this_thread_encoders();
  if (params.encoding == Encoding::zrle) {
    if (!encoders.zrle) encoders.zrle = std::make_unique<ZrleEncoder>();
    out.rects = encoders.zrle->encode(fb, rects, writer, out.bytes);
    return out;
  }
  if (params.encoding == Encoding::tight) {
    if (!encoders.tight) encoders.tight = std::make_unique<TightEncoder>();
    encoders.tight->configure(params.compress_level, params.jpeg_quality);
    out.rects = encoders.tight->encode(fb, rects, writer, out.bytes);
    return out;
  }
  for (const auto& r : rects) {
    switch (params.encoding) {
      case Encoding::hextile:
        if (!encoders.hextile) encoders.hextile = std::make_unique<HextileEncoder>();
        put_rect_header(out.bytes, r, static_cast<std::int32_t>(Encoding::hextile));
        encoders.hextile->encode(fb, r, writer, out.bytes);
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
