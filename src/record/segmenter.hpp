// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "framebuffer/pixel_buffer.hpp"
#include "record/mp4_writer.hpp"

namespace vncgate::record {

// Where frames of one segment go (an Mp4Writer in production).
class SegmentSink {
 public:
  virtual ~SegmentSink() = default;
  virtual void write(const framebuffer::PixelBuffer& frame, std::int64_t t_ms) = 0;
  // The last written frame again (the screen did not change).
  virtual void repeat(std::int64_t t_ms) = 0;
  virtual SegmentStats finish(std::int64_t end_ms) = 0;
};

// A segment written to an MP4 file.
class Mp4SegmentSink : public SegmentSink {
 public:
  Mp4SegmentSink(const std::string& path, const EncoderSettings& settings, int w, int h, std::int64_t start)
      : writer_(path, settings, w, h, start) {}
  void write(const framebuffer::PixelBuffer& frame, std::int64_t t_ms) override { writer_.write(frame, t_ms); }
  void repeat(std::int64_t t_ms) override { writer_.repeat(t_ms); }
  SegmentStats finish(std::int64_t end_ms) override { return writer_.finish(end_ms); }
  std::int64_t frames() const { return writer_.frames(); }
  std::int64_t bytes() const { return writer_.bytes(); }

 private:
  Mp4Writer writer_;
};

// Cuts one continuous timeline into `count` segments of `duration_ms`, gap-free: segment k covers
// [k*D, (k+1)*D) on the job clock (ms since the first frame). The screen shown at a boundary opens the next
// segment as its first (key) frame at exactly the boundary, so no instant is lost or shown twice and the
// durations add up to the wall time. With no change on screen the held frame is repeated every
// `keepalive_ms`, so players seek well and a crash loses at most that much. Not thread-safe.
class Segmenter {
 public:
  using Open = std::function<std::unique_ptr<SegmentSink>(int index, std::int64_t start_ms)>;
  using Closed = std::function<void(int index, std::int64_t start_ms, std::int64_t end_ms, const SegmentStats&)>;

  Segmenter(std::int64_t duration_ms, int count, Open open, Closed closed, std::int64_t keepalive_ms = 1000);
  ~Segmenter();

  // A new screen shown from `t_ms` on. Boundaries before `t_ms` are handled first. Returns the previous
  // screen's buffer for reuse.
  framebuffer::PixelBuffer frame(framebuffer::PixelBuffer frame, std::int64_t t_ms);
  // Time has reached `t_ms` without a new screen: closes/opens segments and repeats the held frame.
  void advance(std::int64_t t_ms);
  // The job time at which advance() next has work (a boundary or a keep-alive); nullopt when done.
  std::optional<std::int64_t> next_deadline() const;
  // Ends the open segment at `t_ms` and the job with it (cancel, upstream lost for good).
  void stop(std::int64_t t_ms);
  // A still screen: the held screen is kept compressed until a boundary or the next frame needs it.
  void compact_held();

  bool done() const { return index_ >= count_ || stopped_; }
  int segment_index() const { return index_; }  // 0-based index of the open segment
  std::int64_t end_ms() const { return duration_ms_ * count_; }

 private:
  void roll_to(std::int64_t t_ms);
  void close_current(std::int64_t end_ms);

  std::int64_t duration_ms_;
  int count_;
  Open open_;
  Closed closed_;
  std::int64_t keepalive_ms_;
  int index_ = 0;
  std::unique_ptr<SegmentSink> sink_;
  framebuffer::PixelBuffer held_;
  bool has_held_ = false;
  std::int64_t last_write_ms_ = 0;
  bool stopped_ = false;
};

}  // namespace vncgate::record
