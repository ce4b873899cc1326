// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "framebuffer/pixel_buffer.hpp"
#include "rfb/encoding.hpp"
#include "rfb/pixel_format.hpp"

namespace vncgate::rfb {

// How a viewer wants pixel data: what its SetPixelFormat and SetEncodings ask for.
struct PixelParams {
  Encoding encoding = Encoding::raw;  // tight, zrle, hextile or raw
  PixelFormat format = PixelFormat::canonical();
  int compress_level = 1;  // Tight zlib level
  int jpeg_quality = -1;   // Tight JPEG quality 0-9; -1: lossless only
  bool operator==(const PixelParams&) const = default;
};

// Complete FramebufferUpdate rectangles (headers and payloads) for one area, as a viewer whose zlib streams have
// all been started gets them: compressed data is raw deflate (see Deflater).
struct EncodedPixels {
  std::vector<std::uint8_t> bytes;
  int rects = 0;
  // Per zlib stream (Tight 0-3; ZRLE has only 0): the offset in `bytes` of the length field of the first
  // rectangle whose data goes through it, or -1. A viewer's first data on a stream needs kZlibHeader there.
  std::array<std::int32_t, 4> zlib_starts{-1, -1, -1, -1};

  // Bit i set: stream i carries data in these rectangles.
  unsigned zlib_streams() const;
};

// Encodes the areas `rects` (inside `fb`) as `params` say. Nothing carries over from one call to the next (see
// TightEncoder and ZrleEncoder), so the result can go to every viewer whose update is the same area in the same params
// — the gateway encodes a change once for all its viewers. The encoders' scratch memory is per thread.
EncodedPixels encode_pixels(const framebuffer::PixelBuffer& fb, std::span<const framebuffer::Rect> rects,
                            const PixelParams& params);

// One viewer's own encoders: their zlib streams (Tight's, ZRLE's) keep their history from one update to the next,
// as a VNC server's own do, so text seen in earlier updates costs back-references (half the bytes of a scrolling
// terminal). Their output is valid only for the one viewer that gets all of it, in order, with nothing else on
// those streams in between (AsyncServer drops them the moment the viewer is sent anything else). ~256 KiB per
// zlib stream used, made on first use.
class ViewerEncoders {
 public:
  ViewerEncoders();
  ~ViewerEncoders();
  ViewerEncoders(const ViewerEncoders&) = delete;
  ViewerEncoders& operator=(const ViewerEncoders&) = delete;

  // Whether `encoding` has streams whose history is worth keeping.
  static bool keep_history(Encoding encoding) { return encoding == Encoding::tight || encoding == Encoding::zrle; }
  EncodedPixels encode(const framebuffer::PixelBuffer& fb, std::span<const framebuffer::Rect> rects,
                       const PixelParams& params);

  struct Set;  // pixel_encoder.cpp

 private:
  std::unique_ptr<Set> encoders_;
};

// Appends `pixels` (made with `encoding`) for a viewer whose inflaters have not read a zlib header yet on the
// streams in `fresh_streams`: kZlibHeader goes before the first data of each and its length grows by 2.
void append_pixels(std::vector<std::uint8_t>& out, const EncodedPixels& pixels, Encoding encoding,
                   unsigned fresh_streams);

}  // namespace vncgate::rfb
