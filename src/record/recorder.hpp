// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "record/capture.hpp"
#include "record/encoder_settings.hpp"
#include "record/sidecar.hpp"

namespace vncgate::record {

struct RecordOptions {
  std::string output_dir;
  // File name without extension; {n} = segment number (001, 002, …), {start} = job start (UTC, compact).
  std::string name_pattern = "segment-{n}";
  std::int64_t duration_ms = 60000;
  int count = 1;
  EncoderSettings encoder;
  CaptureOptions capture;
  std::string target_label;  // shown in sidecars and logs; must not contain secrets
  // Also write the lossless server stream: recording.fbs (+ .idx), recording-2.fbs after a reconnect, …;
  // a run that starts at segment N > 1 (a resumed job) writes recording-from-00N.fbs, recording-from-00N-2.fbs, …
  bool fbs = false;
  std::chrono::milliseconds first_frame_timeout{30000};
  // Numbering of the first segment this run records, and of the whole job: a job resumed after a restart
  // continues its count (segment-004 of 5) instead of starting again at 1. 0 = count.
  int first_number = 1;
  int total_count = 0;
  // Sees the console picture (before scaling) at most once per `frame_observer_interval`, on the encoder
  // thread: the service keeps a thumbnail from it. Must be quick.
  std::function<void(const framebuffer::PixelBuffer&)> frame_observer;
  std::chrono::milliseconds frame_observer_interval{2000};
  // Also write each segment's transcript, <name>.transcript.jsonl (docs/text.md), on a thread of its own.
  bool transcript = true;
};

struct SegmentResult {
  SegmentRecord record;
  std::string mp4_path;
  std::string sidecar_path;
  std::string transcript_path;  // empty when none was written
};

struct Progress {
  int segment = 0;  // 1-based, in the job's numbering (see RecordOptions::first_number)
  int count = 0;    // the job's total
  std::int64_t elapsed_ms = 0;
  std::int64_t total_ms = 0;
  std::int64_t frames = 0;
  std::int64_t bytes = 0;
  std::uint64_t dropped = 0;  // frames the encoder skipped because newer ones were waiting
};

// One recording job: `count` gap-free MP4 segments of `duration_ms` from one console, with a JSON sidecar each.
// run() is the encoder loop (on the caller's thread); a Capture thread owns the network. Finished segments
// are final the moment their callback runs, whatever happens afterwards.
class Recorder {
 public:
  Recorder(Acquire acquire, RecordOptions options);
  // Fed by its owner instead of its own Capture (the live gateway already holds the connection): the owner
  // publishes complete frames into slot() stamped with clock().start_or_now(), from any one thread, and ends
  // the job with cancel(). RecordOptions::fbs and ::capture do not apply.
  explicit Recorder(RecordOptions options);
  ~Recorder();

  FrameSlot& slot() { return slot_; }
  JobClock& clock() { return clock_; }

  // Records until all segments are done or cancel(). Throws (after closing the open segment, which stays
  // playable) when the first connection fails or the upstream is lost for longer than the give-up time.
  std::vector<SegmentResult> run(const std::function<void(const Progress&)>& progress = {},
                                 const std::function<void(const SegmentResult&)>& segment_done = {});
  // Ends the job early from any thread; the open segment is closed at the current instant.
  void cancel();
  // Where segment `number` (in the job's numbering, as Progress::segment) is written.
  std::string mp4_path(int number) const;
  // Where segment `number`'s transcript is written (RecordOptions::transcript).
  std::string transcript_path(int number) const;

 private:
  // The file name without extension of segment `number` (the job's numbering).
  std::string segment_name(int number) const;

  Acquire acquire_;
  RecordOptions options_;
  std::atomic<bool> cancelled_{false};
  FrameSlot slot_;
  JobClock clock_;
};

}  // namespace vncgate::record
