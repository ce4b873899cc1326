// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>

#include "framebuffer/damage.hpp"
#include "framebuffer/pixel_buffer.hpp"
#include "text/text_screen.hpp"

namespace vncgate::text {

struct TranscriptOptions {
  // A changed screen writes a whole-screen keyframe when the last one is at least this old, so any instant
  // can be rebuilt from the keyframe before it plus the rows after.
  std::uint32_t keyframe_interval_ms = 10000;
};

// Writes transcript.jsonl (docs/text.md) from a recording's frames: one JSON object a line,
//   {"t":1.25,"key":true,"text":true,"columns":80,"rows":25,"lines":["...",...]}  whole screen (keyframe)
//   {"t":1.5,"rows":{"24":"login: "}}                                             rows that changed
//   {"t":9.0,"key":true,"text":false}                                              not a text screen now
// `t` is seconds from the recording's start (ms precision). Frames that change no row write nothing.
// Feed it every frame the recorder keeps, with its damage: reading is incremental. Not thread-safe.
class TranscriptWriter {
 public:
  explicit TranscriptWriter(std::ostream& out, TranscriptOptions options = {},
                            std::shared_ptr<const GlyphLibrary> library = GlyphLibrary::installed());

  // The screen at `ms` after the recording started, changed within `damage` since the previous call.
  void frame(std::uint32_t ms, const framebuffer::PixelBuffer& fb, const framebuffer::Damage& damage);
  // The same, `before` being the previous call's picture (TextScreen::update(fb, before): compared row by
  // row, scrolled rows are not read again).
  void frame(std::uint32_t ms, const framebuffer::PixelBuffer& fb, const framebuffer::PixelBuffer& before);
  // Ends the transcript with a keyframe at `ms` when rows changed since the last one (a reader of the last
  // seconds needs no other line); optional.
  void finish(std::uint32_t ms);
  // Continues in `out` with the clock at 0 (the next segment of a recording): the screen as read so far is its
  // first keyframe, written at once, so each file can be read alone. Call finish() on the previous one first.
  void restart(std::ostream& out);

  const TextScreen& screen() const { return screen_; }
  std::uint64_t lines_written() const { return lines_; }

 private:
  void keyframe(std::uint32_t ms);
  void read(std::uint32_t ms, const std::vector<int>& changed, int old_rows, int old_columns);
  void rows(std::uint32_t ms, const std::vector<int>& changed);

  std::ostream* out_;
  TranscriptOptions options_;
  TextScreen screen_;
  bool started_ = false;
  bool was_text_ = false;
  bool dirty_since_key_ = false;
  std::uint32_t last_key_ms_ = 0;
  std::uint64_t lines_ = 0;
};

}  // namespace vncgate::text
