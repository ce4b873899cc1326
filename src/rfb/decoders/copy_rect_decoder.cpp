// SPDX-License-Identifier: Apache-2.0
#include "rfb/decoders/copy_rect_decoder.hpp"

#include <string>

#include "rfb/decoders/raw_decoder.hpp"
#include "util/error.hpp"

namespace vncgate::rfb {

bool CopyRectDecoder::gather(InBuffer& in, const Rect&, const PixelFormat&, std::vector<std::uint8_t>& payload) {
  return gather_bytes(in, 4, payload);
}

Rect CopyRectDecoder::source(std::span<const std::uint8_t> payload, const Rect& r, int width, int height) {
  if (payload.size() != 4) throw ProtocolError("copyrect: payload must be 4 bytes");
  const Rect src{(payload[0] << 8) | payload[1], (payload[2] << 8) | payload[3], r.w, r.h};
  if (!src.inside(width, height))
    throw ProtocolError("copyrect: source " + std::to_string(src.x) + "," + std::to_string(src.y) +
                        " lies outside the framebuffer");
  return src;
}

void CopyRectDecoder::decode(std::span<const std::uint8_t> payload, const Rect& r, const PixelConverter&,
                             PixelBuffer& fb) {
  fb.copy(source(payload, r, fb.width(), fb.height()), r.x, r.y);
}

}  // namespace vncgate::rfb
