// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "framebuffer/pixel_buffer.hpp"
#include "framebuffer/rect.hpp"
#include "rfb/encoding.hpp"
#include "rfb/in_buffer.hpp"
#include "rfb/pixel_format.hpp"

namespace vncgate {
class ByteCursor;
}

namespace vncgate::rfb {

using framebuffer::PixelBuffer;
using framebuffer::Rect;

// One class per encoding, in two phases (TigerVNC's readRect/decodeRect):
//  - gather(): on the network side, finds where the rectangle's payload ends and appends exactly those bytes
//    to `payload`. Returns false when `in` does not hold them all yet (the caller restores and waits); throws
//    ProtocolError when the structure is impossible (e.g. an oversized length). Never touches the framebuffer.
//  - decode(): turns a complete payload into pixels of `fb` inside `r`. Throws ProtocolError on malformed data
//    (truncated zlib, palette index out of range). Must never write outside `r`.
// The caller has checked that `r` lies inside `fb` and is not empty. Decoders with zlib streams keep state
// between rectangles, so decode() calls for one connection must happen in wire order.
class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual bool gather(InBuffer& in, const Rect& r, const PixelFormat& pf, std::vector<std::uint8_t>& payload) = 0;
  virtual void decode(std::span<const std::uint8_t> payload, const Rect& r, const PixelConverter& conv,
                      PixelBuffer& fb) = 0;
  // Frees what the next decode() rebuilds (an idle connection's hibernation): per-rectangle buffers, and
  // zlib streams' inflate state, whose dictionary is kept deflated so the server's next rectangle continues
  // the stream exactly (io::ZlibInflater::hibernate).
  virtual void release_scratch() {}
  // FBS checkpoints (docs/fbs.md §7): appends the state decode() carries from one rectangle to the next (zlib
  // streams); false when it cannot be captured here (a stream mid-block). restore_state() reads it back from
  // a file and throws ProtocolError when it is malformed.
  virtual bool save_state(std::vector<std::uint8_t>& /*out*/) const { return true; }
  virtual void restore_state(ByteCursor& /*in*/) {}
};

// Creates the decoder for a real (non-pseudo) encoding; nullptr when unsupported.
std::unique_ptr<Decoder> make_decoder(Encoding encoding);

// Cap on one rectangle's compressed payload (a zlib/ZRLE/Tight length field): no real server sends more than
// a raw 16k x 16k x 4 screen, so larger values are hostile.
constexpr std::size_t kMaxPayload = std::size_t{1} << 30;

}  // namespace vncgate::rfb
