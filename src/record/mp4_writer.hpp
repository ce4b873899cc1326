// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "framebuffer/pixel_buffer.hpp"
#include "record/encoder_settings.hpp"

namespace vncgate::record {

struct SegmentStats {
  std::int64_t frames = 0;
  std::int64_t bytes = 0;        // file size after the trailer
  std::int64_t duration_ms = 0;  // from the first frame to the end instant
};

// One MP4 segment: H.264 (libx264 through libavcodec) in fragmented MP4 (libavformat), frames converted and
// scaled with libswscale. Timestamps are the caller's (milliseconds on the job clock, variable frame rate);
// the file's own timeline starts at `start_ms`. Fragments of about a second reach the disk as they complete,
// so a killed process leaves a playable file up to its last fragment. Errors throw CodecError/IoError.
class Mp4Writer {
 public:
  Mp4Writer(const std::string& path, const EncoderSettings& settings, int width, int height, std::int64_t start_ms);
  ~Mp4Writer();
  Mp4Writer(const Mp4Writer&) = delete;
  Mp4Writer& operator=(const Mp4Writer&) = delete;

  // Encodes `frame`, shown from `t_ms` on (t_ms > the previous frame's). The first frame is an IDR. A frame of
  // another size than the output is scaled to fit, keeping its aspect ratio (black bars).
  void write(const framebuffer::PixelBuffer& frame, std::int64_t t_ms);
  // Shows the last written frame again at `t_ms` (keep-alive of an unchanged screen): x264 codes the first two
  // repeats after a change (it refines the picture), later ones are ready-made skip frames, so an unchanged
  // stretch costs next to nothing; once the screen has been still for EncoderSettings::hibernate_after_s, the
  // encoder is closed as well.
  void repeat(std::int64_t t_ms);
  // Ends the segment at `end_ms`: the last frame lasts until then; writes the trailer and closes the file.
  SegmentStats finish(std::int64_t end_ms);

  std::int64_t frames() const;
  std::int64_t bytes() const;  // written to the file so far
  // The encoder is closed for a still screen (EncoderSettings::hibernate_after_s).
  bool hibernating() const;
  // Repeats written as ready-made skip frames instead of x264's (asleep, or awake after x264 refined a change).
  std::int64_t skip_frames() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vncgate::record
