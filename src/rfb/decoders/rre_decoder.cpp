// SPDX-License-Identifier: Apache-2.0
#include "rfb/decoders/rre_decoder.hpp"

#include "rfb/decoders/raw_decoder.hpp"
#include <string>

#include "util/error.hpp"

namespace vncgate::rfb {

bool RreDecoder::gather(InBuffer& in, const Rect&, const PixelFormat& pf, std::vector<std::uint8_t>& payload) {
  if (!in.has(4)) return false;
  const std::size_t count = in.u32();
  const auto bpp = static_cast<std::size_t>(pf.bytes_per_pixel());
  const std::size_t body = bpp + count * (bpp + 8);  // count < 2^32: cannot overflow size_t
  if (body > kMaxPayload) throw ProtocolError("rre: subrectangle count " + std::to_string(count) + " too large");
  if (!in.has(body)) return false;
  const std::uint8_t header[4] = {static_cast<std::uint8_t>(count >> 24), static_cast<std::uint8_t>(count >> 16),
                                  static_cast<std::uint8_t>(count >> 8), static_cast<std::uint8_t>(count)};
  payload.insert(payload.end(), header, header + 4);
  return gather_bytes(in, body, payload);
}

void RreDecoder::decode(std::span<const std::uint8_t> payload, const Rect& r, const PixelConverter& conv,
                        PixelBuffer& fb) {
  const auto bpp = static_cast<std::size_t>(conv.format().bytes_per_pixel());
  if (payload.size() < 4 + bpp) throw ProtocolError("rre: truncated header");
  const std::size_t count = (std::size_t{payload[0]} << 24) | (payload[1] << 16) | (payload[2] << 8) | payload[3];
  if (payload.size() != 4 + bpp + count * (bpp + 8)) throw ProtocolError("rre: payload size does not match count");
  const std::uint8_t* p = payload.data() + 4;
  fb.fill(r, conv.pixel(p));
  p += bpp;
  for (std::size_t i = 0; i < count; ++i, p += bpp + 8) {
    const auto* q = p + bpp;
    const Rect sub{(q[0] << 8) | q[1], (q[2] << 8) | q[3], (q[4] << 8) | q[5], (q[6] << 8) | q[7]};
    if (!sub.inside(r.w, r.h)) throw ProtocolError("rre: subrectangle outside its rectangle");
    if (sub.empty()) continue;
    fb.fill({r.x + sub.x, r.y + sub.y, sub.w, sub.h}, conv.pixel(p));
  }
}

}  // namespace vncgate::rfb
