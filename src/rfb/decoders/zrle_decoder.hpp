// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "io/zlib_stream.hpp"
#include "rfb/decoders/decoder.hpp"

namespace vncgate::rfb {

// ZRLE (RFC 6143 §7.7.6, encoding 16): u32 length + zlib data of one persistent stream. The inflated data is
// a sequence of 64x64 tiles (smaller at the right and bottom edges), left to right, top to bottom, each a
// subencoding byte followed by CPIXELs: raw (0), solid (1), packed palette (2..16), plain RLE (128) or
// palette RLE (130..255). decode() calls must follow wire order (stream state). Not thread-safe.
class ZrleDecoder final : public Decoder {
 public:
  bool gather(InBuffer& in, const Rect& r, const PixelFormat& pf, std::vector<std::uint8_t>& payload) override;
  void decode(std::span<const std::uint8_t> payload, const Rect& r, const PixelConverter& conv,
              PixelBuffer& fb) override;
  void release_scratch() override {
    std::vector<std::uint8_t>().swap(tiles_);
    zlib_.hibernate();
  }
  bool save_state(std::vector<std::uint8_t>& out) const override { return zlib_.save(out); }
  void restore_state(ByteCursor& in) override { zlib_.restore(in); }

 private:
  io::ZlibInflater zlib_;
  std::vector<std::uint8_t> tiles_;  // inflated tile data of the current rectangle (capacity reused)
};

}  // namespace vncgate::rfb
