// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>

#include "fbs/reader.hpp"
#include "framebuffer/pixel_buffer.hpp"
#include "rfb/pixel_format.hpp"

namespace vncgate::rfb {
class ClientConnection;
}

namespace vncgate::fbs {

// Default spacing of the checkpoints a replay adds (docs/fbs.md §7).
inline constexpr std::uint64_t kCheckpointEveryBytes = 1u << 20;
inline constexpr std::uint32_t kCheckpointEveryMs = 180'000;
inline constexpr std::uint32_t kCheckpointEveryDecodeMs = 25;

struct ReplayOptions {
  // Format of the recorded pixels when it is not the prologue's: FBS 001.000 files written by a proxy whose
  // viewer sent SetPixelFormat (not part of the server stream). nullopt: the ServerInit's, always right for
  // 001.001 (the pinned format is in the prologue).
  std::optional<rfb::PixelFormat> pixel_format;
  // The checkpoint sidecar (docs/fbs.md §7, checkpoints_path_for): a replay from T > 0 restores the last
  // checkpoint at or before T and decodes only from there; "" decodes from the start. Not used together with
  // `pixel_format` (checkpoints hold the decoder of the file's own format).
  std::string checkpoints;
  // Add checkpoints to that sidecar (creating it) while decoding past its last one, every
  // `checkpoint_every_bytes` of recording, `checkpoint_every_ms` of changing screen or
  // `checkpoint_every_decode_ms` of time spent reading and decoding (0: not by time spent): a seek then
  // decodes at most about that much after restoring one.
  bool build_checkpoints = false;
  std::uint64_t checkpoint_every_bytes = kCheckpointEveryBytes;
  std::uint32_t checkpoint_every_ms = kCheckpointEveryMs;
  std::uint32_t checkpoint_every_decode_ms = kCheckpointEveryDecodeMs;
};

// One picture of the replayed screen.
struct Frame {
  const framebuffer::PixelBuffer& pixels;
  framebuffer::Rect damage;  // changed since the previous frame delivered (the whole screen for the first)
  std::uint32_t ms;          // recording time of the picture
  bool resized;              // the size changed since the previous frame
  bool painted;              // every pixel was painted at least once (before that, parts are still black)
};

struct ReplayResult {
  ReadStatus read;           // how the file ended (damaged files stop early, their frames were delivered)
  std::string decode_error;  // the RFB stream inside is malformed: replay stopped there
  // How far the recording went: the timestamp of the last block decoded (time marks included) or of an end
  // marker, or to_ms when a block beyond it was read. Frames stop earlier when the screen stood still.
  std::uint32_t last_ms = 0;
  std::uint64_t frames = 0;  // frames delivered
  bool stopped = false;      // on_frame asked to stop
  // The checkpoint the replay started from (its ms), nullopt when it decoded from the start.
  std::optional<std::uint32_t> resumed_at_ms;
  std::uint64_t checkpoints_added = 0;
  bool ok() const { return decode_error.empty() && !read.damaged(); }
};

// Reproduces the framebuffer of an FBS recording by feeding its blocks into an rfb::ClientConnection (what
// the recorder's client saw; requests it would send go nowhere).
// Seeking: Tight, ZRLE and Zlib carry zlib dictionaries across rectangles, so the state at T depends on
// every byte before T. run() therefore restores the decoder from the last checkpoint before `from_ms` when
// the options name a checkpoint sidecar, or else decodes from the start, at full speed, and starts
// delivering frames at `from_ms` (docs/fbs.md §7).
class Replay {
 public:
  using FrameCallback = std::function<bool(const Frame&)>;  // false stops the replay

  explicit Replay(Reader reader, ReplayOptions options = {});

  // Delivers the screen as it was at `from_ms` (ms = from_ms, damage = whole screen), then a frame after
  // each FramebufferUpdate that painted something, completed in a block with from_ms < ms <= to_ms. Never throws for
  // bad content: see ReplayResult. The caller paces (Frame::ms says when a frame is due).
  ReplayResult run(std::uint32_t from_ms, std::uint32_t to_ms, const FrameCallback& on_frame);
  ReplayResult run(const FrameCallback& on_frame) {
    return run(0, std::numeric_limits<std::uint32_t>::max(), on_frame);
  }

 private:
  // Restores `conn` from the sidecar's last usable checkpoint at or before `from_ms` and positions the
  // reader after it; false (reader and connection untouched) when there is none.
  bool resume(rfb::ClientConnection& conn, std::uint32_t from_ms, ReplayResult& result);

  Reader reader_;
  ReplayOptions options_;
};

// The screen at the end of the recording (or at `at_ms`), from the last checkpoint before it when `options`
// name a sidecar; throws ProtocolError when the recording has no decodable picture at all.
framebuffer::PixelBuffer final_frame(Reader reader, std::uint32_t at_ms = std::numeric_limits<std::uint32_t>::max(),
                                     ReplayOptions options = {});

// The screen at `at_ms` (from the last checkpoint before it when `options` name a sidecar), at most `max_width`
// wide (framebuffer::shrink_to_width: a thumbnail is taken straight from the decoder's picture, without a copy
// of the whole screen first), or nullopt when the recording does not reach that far — it ends more than
// `slack_ms` before (a still screen's last time mark may be up to a mark interval old: §2) or has no picture.
// Damage after `at_ms` does not matter.
std::optional<framebuffer::PixelBuffer> picture_at(Reader reader, std::uint32_t at_ms, ReplayOptions options = {},
                                                   int max_width = std::numeric_limits<int>::max(),
                                                   std::uint32_t slack_ms = 1000);

// Options that restore from `fbs_path`'s checkpoint sidecar and add to it while decoding (play, transcript).
ReplayOptions using_and_building_checkpoints(const std::string& fbs_path);

// Decodes the whole recording at `fbs_path` to build (or extend) its checkpoint sidecar, e.g. once a recording
// ends, so that its first seek is already instant. Throws like Reader::open when the file is not an FBS
// recording; bad content later in it is not an exception: see ReplayResult.
ReplayResult build_checkpoints(const std::string& fbs_path);

}  // namespace vncgate::fbs
