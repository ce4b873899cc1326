// SPDX-License-Identifier: Apache-2.0
#include "record/convert.hpp"

#include <sched.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>

#include "fbs/checkpoints.hpp"
#include "fbs/index.hpp"
#include "fbs/reader.hpp"
#include "fbs/replay.hpp"
#include "record/mp4_join.hpp"
#include "record/segmenter.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace vncgate::record {

namespace {

// A stretch of the recording converted on its own. `wait_for_paint`: the video starts with the first
// completely painted screen (only the first part: later parts start exactly at from_ms, where the one before
// them ended). `done_ms`: how far it got (recording time), for progress.
struct Range {
  std::uint32_t from_ms = 0, to_ms = 0;
  bool wait_for_paint = true;
  std::atomic<std::uint32_t>* done_ms = nullptr;
  fbs::ReplayOptions replay;  // the checkpoint sidecar to start from and whether to add to it
};

fbs::ReplayOptions replay_options(const std::string& input, const ConvertOptions& options, bool build) {
  fbs::ReplayOptions replay;
  if (options.checkpoints) replay.checkpoints = fbs::checkpoints_path_for(input);
  replay.build_checkpoints = build;
  return replay;
}

ConvertResult convert_range(const std::string& input, const std::string& output, const EncoderSettings& encoder,
                            const Range& range, std::uint32_t total,
                            const std::function<void(std::uint32_t, std::uint32_t)>& progress) {
  ConvertResult result;
  std::optional<Segmenter> timeline;
  framebuffer::PixelBuffer spare;
  framebuffer::Rect previous_damage;
  auto open = [&](int, std::int64_t start) -> std::unique_ptr<SegmentSink> {
    return std::make_unique<Mp4SegmentSink>(output, encoder, result.width, result.height, start);
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
  std::uint32_t start_ms = range.from_ms;  // the MP4's time 0
  // Like a live recording, the video starts with the first completely painted screen: before it, the file
  // only holds the connection being set up (a black or half-drawn screen). A file that never gets there is
  // converted from its start.
  auto convert = [&](bool wait_for_paint) {
    return fbs::Replay(fbs::Reader::open(input), range.replay)
        .run(range.from_ms, range.to_ms, [&](const fbs::Frame& frame) {
          if (!timeline && wait_for_paint && !frame.painted) return true;
          if (!timeline) start_ms = frame.ms;
          const std::int64_t t = static_cast<std::int64_t>(frame.ms) - start_ms;
          if (!timeline) {
            std::tie(result.width, result.height) = output_size(encoder, frame.pixels.width(), frame.pixels.height());
            timeline.emplace(std::int64_t{1} << 50, 1, open, closed);  // one segment, ended by stop()
          }
          advance_to(t);
          // The timeline hands back the picture before the previous one: only what changed in the last two frames
          // is copied into it.
          const auto changed = frame.damage.unite(previous_damage);
          previous_damage = frame.damage;
          if (!frame.resized && !spare.compacted() && spare.width() == frame.pixels.width() &&
              spare.height() == frame.pixels.height() && changed.inside(spare.width(), spare.height())) {
            if (!changed.empty()) spare.put(changed, frame.pixels);
          } else {
            spare = frame.pixels;
          }
          spare = timeline->frame(std::move(spare), t);
          last_frame_t = t;
          if (range.done_ms) range.done_ms->store(frame.ms, std::memory_order_relaxed);
          if (progress) progress(frame.ms, total);
          return true;
        });
  };
  auto replayed = convert(range.wait_for_paint);
  if (!timeline && range.wait_for_paint) replayed = convert(false);
  if (!timeline) {
    throw ProtocolError(input + ": no picture to convert" +
                        (replayed.decode_error.empty() ? replayed.read.message : replayed.decode_error));
  }
  // The recording ends at its last timestamp (the closing time mark, docs/fbs.md §2). A file that ends with the
  // update of its last picture (no marks: older files, other writers) shows that picture for one frame period,
  // or a frame at the very end would last 0 ms and the video would end on the one before.
  const std::int64_t frame_period = static_cast<std::int64_t>(1000.0 / std::max(1.0, encoder.fps));
  const std::int64_t last_frame_ms = last_frame_t + start_ms;
  const std::int64_t recorded_end =
      replayed.last_ms > last_frame_ms ? std::int64_t{replayed.last_ms} : last_frame_ms + frame_period;
  const std::int64_t end = std::min<std::int64_t>(recorded_end, range.to_ms) - start_ms;
  advance_to(end);
  timeline->stop(end);
  if (!replayed.decode_error.empty())
    result.damage = replayed.decode_error;
  else if (replayed.read.damaged())
    result.damage = replayed.read.message;
  result.start_ms = start_ms;
  if (range.done_ms) range.done_ms->store(static_cast<std::uint32_t>(end + start_ms), std::memory_order_relaxed);
  if (progress) progress(static_cast<std::uint32_t>(end + start_ms), total);
  return result;
}

// The first completely painted screen at or after from_ms: its time and size. Nullopt when there is none
// before to_ms (the sequential conversion then handles the file as it is).
struct FirstPicture {
  std::uint32_t ms;
  int width, height;
};
std::optional<FirstPicture> first_painted(const std::string& input, const ConvertOptions& options,
                                          std::uint32_t to_ms) {
  std::optional<FirstPicture> found;
  fbs::Replay(fbs::Reader::open(input), replay_options(input, options, false))
      .run(options.from_ms, to_ms, [&](const fbs::Frame& frame) {
        if (frame.painted) found = FirstPicture{frame.ms, frame.pixels.width(), frame.pixels.height()};
        return !found;
      });
  return found;
}

unsigned cores_allowed() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
  return static_cast<unsigned>(std::max(1, CPU_COUNT(&set)));
}

constexpr std::uint32_t kMinPartMs = 20000;  // two keyframe intervals: shorter parts would mostly be keyframes

// Parts of the recording converted at once, one thread each, then joined (docs/recording.md, "convert"). Each
// part replays the file from its start to its own first instant (decoding is far cheaper than encoding) and
// begins with a keyframe of the screen at that instant; part k's video ends exactly where part k+1's begins.
// Nullopt when the parts cannot stand for the sequential conversion (a damaged file fails in one part and not
// in the others, the encoders disagree): the caller converts sequentially, which is always right.
std::optional<ConvertResult> convert_in_parts(const std::string& input, const std::string& output,
                                              const ConvertOptions& options, FirstPicture first, std::uint32_t end,
                                              unsigned count,
                                              const std::function<void(std::uint32_t, std::uint32_t)>& progress) {
  EncoderSettings encoder = options.encoder;
  std::tie(encoder.width, encoder.height) = output_size(options.encoder, first.width, first.height);
  encoder.scale = 1.0;

  struct Part {
    Range range;
    std::string path;
    std::atomic<std::uint32_t> done_ms{0};
    ConvertResult result;
    std::exception_ptr error;
  };
  std::vector<std::unique_ptr<Part>> parts;
  const std::uint32_t length = (end - first.ms) / count;
  for (unsigned k = 0; k < count; ++k) {
    auto part = std::make_unique<Part>();
    part->range.from_ms = first.ms + k * length;
    part->range.to_ms = k + 1 == count ? options.to_ms : first.ms + (k + 1) * length;
    part->range.wait_for_paint = k == 0;
    part->done_ms = part->range.from_ms;
    part->range.done_ms = &part->done_ms;
    // The last part decodes the whole file (from its start or a checkpoint): it adds the checkpoints.
    part->range.replay = replay_options(input, options, k + 1 == count);
    part->path = output + ".part" + std::to_string(k + 1) + ".mp4";
    parts.push_back(std::move(part));
  }
  struct RemoveParts {
    std::vector<std::unique_ptr<Part>>& parts;
    ~RemoveParts() {
      std::error_code ignored;
      for (const auto& p : parts) std::filesystem::remove(p->path, ignored);
    }
  } remove_parts{parts};

  std::mutex mutex;
  std::condition_variable finished;
  unsigned running = count;
  std::vector<std::thread> threads;
  for (auto& part : parts) {
    threads.emplace_back([&, p = part.get()] {
      try {
        p->result = convert_range(input, p->path, encoder, p->range, end, {});
      } catch (...) {
        p->error = std::current_exception();
      }
      std::lock_guard lock(mutex);
      --running;
      finished.notify_one();
    });
  }
  {
    std::unique_lock lock(mutex);
    while (!finished.wait_for(lock, std::chrono::milliseconds(200), [&] { return running == 0; })) {
      if (!progress) continue;
      std::uint32_t done = first.ms;
      for (const auto& p : parts) done += p->done_ms.load(std::memory_order_relaxed) - p->range.from_ms;
      progress(done, end);
    }
  }
  for (auto& t : threads) t.join();

  // The parts up to the first damaged one stand for the recording (later parts cannot get past the damage);
  // a part that failed without an earlier one being damaged means the parts disagree.
  std::vector<JoinPart> joined;
  ConvertResult result;
  result.width = encoder.width;
  result.height = encoder.height;
  result.start_ms = parts.front()->result.start_ms;
  result.parts = static_cast<int>(count);
  for (const auto& p : parts) {
    if (p->error) return std::nullopt;
    joined.push_back({p->path, static_cast<std::int64_t>(p->result.start_ms) - result.start_ms, p->result.duration_ms});
    result.frames += p->result.frames;
    result.duration_ms = joined.back().offset_ms + p->result.duration_ms;
    if (!p->result.damage.empty()) {
      result.damage = p->result.damage;
      break;
    }
  }
  if (!join_mp4(joined, output)) return std::nullopt;
  result.bytes = static_cast<std::int64_t>(std::filesystem::file_size(output));
  if (progress) progress(static_cast<std::uint32_t>(result.start_ms + result.duration_ms), end);
  return result;
}

}  // namespace

ConvertResult convert_fbs(const std::string& input, const std::string& output, const ConvertOptions& options,
                          const std::function<void(std::uint32_t, std::uint32_t)>& progress) {
  if (options.to_ms <= options.from_ms) throw UsageError("--to must be after --from");
  const auto index = fbs::read_index(fbs::index_path_for(input));
  const std::uint32_t total = index.empty() ? 0 : std::min(index.back().ms, options.to_ms);

  const unsigned threads = options.threads > 0 ? static_cast<unsigned>(options.threads) : cores_allowed();
  if (threads > 1 && total > options.from_ms + 2 * kMinPartMs) {
    if (const auto first = first_painted(input, options, total); first && first->ms < total) {
      const unsigned count = std::min<unsigned>({threads, kMaxConvertThreads, (total - first->ms) / kMinPartMs});
      if (count > 1) {
        if (auto result = convert_in_parts(input, output, options, *first, total, count, progress)) return *result;
        spdlog::warn("convert: {}: the parts could not be joined; converting it in one piece", input);
      }
    }
  }
  return convert_range(input, output, options.encoder,
                       Range{options.from_ms, options.to_ms, true, nullptr, replay_options(input, options, true)},
                       total, progress);
}

}  // namespace vncgate::record
