// SPDX-License-Identifier: Apache-2.0
#include "rfb/decoders/raw_decoder.hpp"

#include "util/checked.hpp"
#include "util/error.hpp"

namespace vncgate::rfb {

std::size_t pixel_bytes(const Rect& r, int bytes_per_pixel) {
  auto n = checked_mul(static_cast<std::size_t>(r.w), static_cast<std::size_t>(r.h),
                       static_cast<std::size_t>(bytes_per_pixel));
  if (!n || *n > kMaxPayload) throw ProtocolError("rectangle too large");
  return *n;
}

bool gather_bytes(InBuffer& in, std::size_t n, std::vector<std::uint8_t>& payload) {
  if (!in.has(n)) return false;
  const auto* p = in.take(n);
  payload.insert(payload.end(), p, p + n);
  return true;
}

void put_wire_pixels(const std::uint8_t* src, const Rect& r, const PixelConverter& conv, PixelBuffer& fb) {
  const auto row_bytes = static_cast<std::size_t>(r.w) * conv.format().bytes_per_pixel();
  for (int y = 0; y < r.h; ++y) conv.convert(src + y * row_bytes, fb.row(r.y + y) + r.x, static_cast<std::size_t>(r.w));
}

bool RawDecoder::gather(InBuffer& in, const Rect& r, const PixelFormat& pf, std::vector<std::uint8_t>& payload) {
  return gather_bytes(in, pixel_bytes(r, pf.bytes_per_pixel()), payload);
}

void RawDecoder::decode(std::span<const std::uint8_t> payload, const Rect& r, const PixelConverter& conv,
                        PixelBuffer& fb) {
  if (payload.size() != pixel_bytes(r, conv.format().bytes_per_pixel()))
    throw ProtocolError("raw: payload size does not match the rectangle");
  put_wire_pixels(payload.data(), r, conv, fb);
}

}  // namespace vncgate::rfb
