// SPDX-License-Identifier: Apache-2.0
#include "record/convert.hpp"

#include <optional>

#include "fbs/index.hpp"
#include "fbs/reader.hpp"
#include "fbs/replay.hpp"
#include "record/segmenter.hpp"
#include "util/error.hpp"

namespace vncgate::record {

ConvertResult convert_fbs(const std::string& input, const std::string& output, const ConvertOptions& options,
                          const std::function<void(std::uint32_t, std::uint32_t)>& progress) {
  if (options.to_ms <= options.from_ms) throw UsageError("--to must be after --from");
  const auto index = fbs::read_index(fbs::index_path_for(input));
  const std::uint32_t total = index.empty() ? 0 : std::min(index.back().ms, options.to_ms);

  ConvertResult result;
  std::optional<Segmenter> timeline;
  framebuffer::PixelBuffer spare;
  auto open = [&](int, std::int64_t start) -> std::unique_ptr<SegmentSink> {
    return std::make_unique<Mp4SegmentSink>(output, options.encoder, result.width, result.height, start);
  };
  auto closed = [&](int, std::int64_t start, std::int64_t end, const SegmentStats& stats) {
    result.frames = stats.frames;
    result.bytes = stats.bytes;
    result.duration_ms = end - start;
  };
  // Keep-alive repeats up to (not including) t: what a live recording of the same screen would have written.
  auto advance_to = [&](std::int64_t t) {
    for (auto due = timeline->next_deadline(); due && *due < t; due = timeline->next_deadline())
      timeline->advance(*due);
  };

  std::int64_t last_frame_t = 0;
  std::uint32_t start_ms = options.from_ms;  // the MP4's time 0
  // Like a live recording, the video starts with the first completely painted screen: before it, the file
  // only holds the connection being set up (a black or half-drawn screen). A file that never gets there is
  // converted from its start.
  auto convert = [&](bool wait_for_paint) {
    return fbs::Replay(fbs::Reader::open(input)).run(options.from_ms, options.to_ms, [&](const fbs::Frame& frame) {
      if (!timeline && wait_for_paint && !frame.painted) return true;
      if (!timeline) start_ms = frame.ms;
      const std::int64_t t = static_cast<std::int64_t>(frame.ms) - start_ms;
      if (!timeline) {
        std::tie(result.width, result.height) =
            output_size(options.encoder, frame.pixels.width(), frame.pixels.height());
        timeline.emplace(std::int64_t{1} << 50, 1, open, closed);  // one segment, ended by stop()
      }
      advance_to(t);
      spare = frame.pixels;
      spare = timeline->frame(std::move(spare), t);
      last_frame_t = t;
      if (progress) progress(frame.ms, total);
      return true;
    });
  };
  auto replayed = convert(true);
  if (!timeline) replayed = convert(false);
  if (!timeline) {
    throw ProtocolError(input + ": no picture to convert" +
                        (replayed.decode_error.empty() ? replayed.read.message : replayed.decode_error));
  }
  // The recording ends at its last timestamp (the closing time mark, docs/fbs.md §2). A file that ends with the
  // update of its last picture (no marks: older files, other writers) shows that picture for one frame period,
  // or a frame at the very end would last 0 ms and the video would end on the one before.
  const std::int64_t frame_period = static_cast<std::int64_t>(1000.0 / std::max(1.0, options.encoder.fps));
  const std::int64_t last_frame_ms = last_frame_t + start_ms;
  const std::int64_t recorded_end =
      replayed.last_ms > last_frame_ms ? std::int64_t{replayed.last_ms} : last_frame_ms + frame_period;
  const std::int64_t end = std::min<std::int64_t>(recorded_end, options.to_ms) - start_ms;
  advance_to(end);
  timeline->stop(end);
  if (!replayed.decode_error.empty())
    result.damage = replayed.decode_error;
  else if (replayed.read.damaged())
    result.damage = replayed.read.message;
  if (progress) progress(static_cast<std::uint32_t>(end + start_ms), total);
  return result;
}

}  // namespace vncgate::record
