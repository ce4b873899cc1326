// SPDX-License-Identifier: Apache-2.0
#include "rfb/decoders/zlib_decoder.hpp"

#include <string>

#include "rfb/decoders/raw_decoder.hpp"
#include "util/error.hpp"

namespace vncgate::rfb {

bool gather_length_prefixed(InBuffer& in, std::vector<std::uint8_t>& payload, const char* what) {
  if (!in.has(4)) return false;
  const std::size_t length = in.u32();
  if (length > kMaxPayload)
    throw ProtocolError(std::string(what) + ": compressed length " + std::to_string(length) + " too large");
  return gather_bytes(in, length, payload);
}

bool ZlibDecoder::gather(InBuffer& in, const Rect&, const PixelFormat&, std::vector<std::uint8_t>& payload) {
  return gather_length_prefixed(in, payload, "zlib");
}

void ZlibDecoder::decode(std::span<const std::uint8_t> payload, const Rect& r, const PixelConverter& conv,
                         PixelBuffer& fb) {
  pixels_.resize(pixel_bytes(r, conv.format().bytes_per_pixel()));
  zlib_.inflate_exact(payload, pixels_);
  put_wire_pixels(pixels_.data(), r, conv, fb);
}

}  // namespace vncgate::rfb
