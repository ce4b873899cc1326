// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "framebuffer/pixel_buffer.hpp"
#include "text/transcript_writer.hpp"

namespace vncgate::record {

// Writes each segment's transcript (text::TranscriptWriter, docs/text.md) on a thread of its own, from copies
// of the frames the encoder keeps: reading text (a grid search takes tens of milliseconds) never delays the
// encoder, and never runs on a network thread. Frames wait in order while the reader is busy (loading the fonts,
// a grid search), up to kMaxWaiting; beyond that the newest waiting one is replaced (the reader diffs each frame
// against the last one it read, so nothing is missed, only merged and stamped later).
// The screen carries over from one segment to the next: each transcript starts with a keyframe of it.
// Called from one thread (the encoder's), in order: begin, frames, end, begin, ...
class Transcriber {
 public:
  // `library` null: the installed fonts, loaded on the transcriber's thread (~0.1 s once a process).
  explicit Transcriber(text::TranscriptOptions options = {}, std::shared_ptr<const text::GlyphLibrary> library = {});
  ~Transcriber();
  Transcriber(const Transcriber&) = delete;
  Transcriber& operator=(const Transcriber&) = delete;

  // The next frames belong to the segment that starts at `start_ms` on the job clock; its transcript is `path`.
  void begin(std::string path, std::int64_t start_ms);
  // The screen shown from `t_ms` (job clock) on; copied, the caller keeps its buffer.
  void frame(const framebuffer::PixelBuffer& pixels, std::int64_t t_ms);
  // The segment ends at `end_ms`: returns once its transcript is complete on disk, true when it was written
  // (a transcript that cannot be written is logged and left out: it never fails the recording).
  bool end(std::int64_t end_ms);

 private:
  static constexpr long kMaxWaiting = 16;  // frames (about 1.6 s at 10 fps; 50 MiB at 1024x768 at worst)

  struct Item {
    enum Kind { begin, frame, end } kind;
    std::string path;
    std::int64_t t_ms = 0;
    framebuffer::PixelBuffer pixels;
  };
  struct Reader;
  void run();

  text::TranscriptOptions options_;
  std::shared_ptr<const text::GlyphLibrary> library_;
  std::mutex mutex_;
  std::condition_variable wake_, ended_;
  std::deque<Item> queue_;
  std::vector<framebuffer::PixelBuffer> spare_;  // buffers to copy frames into
  std::uint64_t ends_asked_ = 0, ends_done_ = 0;
  bool last_end_ok_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace vncgate::record
