// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "io/zlib_stream.hpp"
#include "rfb/decoders/decoder.hpp"

namespace vncgate::rfb {

// Zlib (rfbproto "Zlib encoding"): u32 length + zlib data of one persistent stream; inflates to Raw pixels.
class ZlibDecoder final : public Decoder {
 public:
  bool gather(InBuffer& in, const Rect& r, const PixelFormat& pf, std::vector<std::uint8_t>& payload) override;
  void decode(std::span<const std::uint8_t> payload, const Rect& r, const PixelConverter& conv,
              PixelBuffer& fb) override;
  void release_scratch() override {
    std::vector<std::uint8_t>().swap(pixels_);
    zlib_.hibernate();
  }
  bool save_state(std::vector<std::uint8_t>& out) const override { return zlib_.save(out); }
  void restore_state(ByteCursor& in) override { zlib_.restore(in); }

 private:
  io::ZlibInflater zlib_;
  std::vector<std::uint8_t> pixels_;
};

// Reads a u32 length prefix and gathers that many bytes (Zlib, ZRLE); throws when above kMaxPayload.
bool gather_length_prefixed(InBuffer& in, std::vector<std::uint8_t>& payload, const char* what);

}  // namespace vncgate::rfb
