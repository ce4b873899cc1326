// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <memory>

#include "io/zlib_stream.hpp"
#include "rfb/decoders/decoder.hpp"

namespace vncgate::rfb {

// Tight (rfbproto "Tight Encoding", encoding 7). A compression-control byte whose low four bits reset zlib
// streams 0..3, then one of:
//  - fill (0x8): one TPIXEL for the whole rectangle;
//  - JPEG (0x9): compact length + a JPEG image exactly the rectangle's size;
//  - basic (0x0..0x7: stream id in bits 4-5, explicit-filter flag in bit 6): optional filter id (copy,
//    palette, gradient) and palette, then the filter's input, raw when under 12 bytes, else compact length +
//    zlib data continuing the selected one of four persistent streams.
// A TPIXEL is 3 bytes R,G,B when PixelFormat::tight_rgb888(), else one PIXEL.
// gather() parses only this structure; decode() applies stream resets, inflates and filters. decode() calls
// must follow wire order (stream state). Not thread-safe; one instance per connection.
class TightDecoder final : public Decoder {
 public:
  TightDecoder();
  ~TightDecoder() override;
  TightDecoder(const TightDecoder&) = delete;
  TightDecoder& operator=(const TightDecoder&) = delete;

  bool gather(InBuffer& in, const Rect& r, const PixelFormat& pf, std::vector<std::uint8_t>& payload) override;
  void decode(std::span<const std::uint8_t> payload, const Rect& r, const PixelConverter& conv,
              PixelBuffer& fb) override;
  // Also drops the TurboJPEG decompressor (re-created on the next JPEG rectangle).
  void release_scratch() override;
  bool save_state(std::vector<std::uint8_t>& out) const override;
  void restore_state(ByteCursor& in) override;

 private:
  struct JpegHandle;

  void decode_jpeg(std::span<const std::uint8_t> jpeg, const Rect& r, PixelBuffer& fb);
  void decode_gradient(const std::uint8_t* src, const Rect& r, const PixelConverter& conv, PixelBuffer& fb);

  std::array<io::ZlibInflater, 4> streams_;
  std::unique_ptr<JpegHandle> jpeg_;    // TurboJPEG decompressor, created on the first JPEG rectangle
  std::vector<std::uint8_t> inflated_;  // filter input of the current rectangle
  std::vector<Pixel> pixels_;           // JPEG output before it is copied into the rectangle
  std::vector<int> gradient_rows_;      // previous and current row components for the gradient filter
};

}  // namespace vncgate::rfb
