// SPDX-License-Identifier: Apache-2.0
#include "record/recorder.hpp"

#include <filesystem>
#include <mutex>
#include <optional>

#include "fbs/writer.hpp"
#include "record/segmenter.hpp"
#include "record/transcriber.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace vncgate::record {

using namespace std::chrono;

namespace {

// An FBS file's clock: milliseconds from `opened` to `t`.
std::uint32_t ms_since(steady_clock::time_point opened, steady_clock::time_point t = steady_clock::now()) {
  return static_cast<std::uint32_t>(std::max<std::int64_t>(0, duration_cast<milliseconds>(t - opened).count()));
}

std::int64_t unix_now_ms() { return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count(); }

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size()))
    text.replace(pos, from.size(), to);
  return text;
}

// A segment's MP4 with its transcript alongside: the transcriber sees every frame the MP4 gets, in its segment.
class TranscribedSink : public SegmentSink {
 public:
  TranscribedSink(std::unique_ptr<SegmentSink> mp4, Transcriber& transcriber, bool& written)
      : mp4_(std::move(mp4)), transcriber_(transcriber), written_(written) {}
  void write(const framebuffer::PixelBuffer& frame, std::int64_t t_ms) override {
    transcriber_.frame(frame, t_ms);
    mp4_->write(frame, t_ms);
  }
  void repeat(std::int64_t t_ms) override { mp4_->repeat(t_ms); }
  SegmentStats finish(std::int64_t end_ms) override {
    written_ = transcriber_.end(end_ms);
    return mp4_->finish(end_ms);
  }

 private:
  std::unique_ptr<SegmentSink> mp4_;
  Transcriber& transcriber_;
  bool& written_;
};

}  // namespace

Recorder::Recorder(Acquire acquire, RecordOptions options)
    : acquire_(std::move(acquire)), options_(std::move(options)) {
  if (options_.duration_ms <= 0 || options_.count <= 0) throw UsageError("duration and count must be positive");
  if (options_.encoder.fps <= 0 || options_.encoder.fps > 120) throw UsageError("fps must be in (0, 120]");
  if (options_.first_number < 1) throw UsageError("the first segment number must be positive");
  if (options_.total_count == 0) options_.total_count = options_.first_number - 1 + options_.count;
  options_.capture.hibernate_after = seconds(std::max(0, options_.encoder.hibernate_after_s));
}

Recorder::Recorder(RecordOptions options) : Recorder(Acquire{}, std::move(options)) {}

Recorder::~Recorder() = default;

void Recorder::cancel() {
  cancelled_ = true;
  slot_.wake();
}

std::string Recorder::segment_name(int number) const {
  char text[16];
  std::snprintf(text, sizeof text, "%03d", number);
  return replace_all(options_.name_pattern, "{n}", text);
}

std::string Recorder::mp4_path(int number) const { return options_.output_dir + "/" + segment_name(number) + ".mp4"; }

std::string Recorder::transcript_path(int number) const {
  return options_.output_dir + "/" + segment_name(number) + ".transcript.jsonl";
}

std::vector<SegmentResult> Recorder::run(const std::function<void(const Progress&)>& progress,
                                         const std::function<void(const SegmentResult&)>& segment_done) {
  std::filesystem::create_directories(options_.output_dir);
  JobClock& clock = clock_;
  std::mutex events_mutex;
  std::vector<JobEvent> events;
  auto note = [&](std::string kind, std::string detail) {
    std::lock_guard lock(events_mutex);
    events.push_back({clock.started() ? clock.now_ms() : 0, std::move(kind), std::move(detail)});
  };
  CaptureEvents capture_events;
  capture_events.connected = [&](int n, const rfb::ServerInit& init, const rfb::PixelFormat&) {
    if (n > 1) note("reconnected", std::to_string(init.width) + "x" + std::to_string(init.height));
  };
  capture_events.disconnected = [&](const std::string& reason) { note("disconnected", reason); };
  capture_events.resized = [&](int w, int h) { note("resize", std::to_string(w) + "x" + std::to_string(h)); };

  // One FBS file per connection: a new connection restarts the RFB stream (and its zlib state).
  struct FbsFile {
    std::unique_ptr<fbs::LazyWriter> writer;
    steady_clock::time_point opened;  // the file's time 0
  };
  std::vector<FbsFile> fbs_files;  // used by the capture thread until it stops
  std::vector<std::pair<std::string, steady_clock::time_point>> fbs_opened;  // name, time 0; under events_mutex
  if (options_.fbs) {
    capture_events.prepare = [&](int n, rfb::ClientConnection& conn) {
      // A resumed job's run is named after its first segment: the crashed run's files (maybe uploaded already
      // under their names) are never overwritten.
      std::string path = options_.output_dir + "/recording";
      if (options_.first_number > 1) path += fmt::format("-from-{:03d}", options_.first_number);
      if (n > 1) path.append("-").append(std::to_string(n));
      path += ".fbs";
      const auto opened = steady_clock::now();
      fbs_files.push_back(
          {std::make_unique<fbs::LazyWriter>(conn, path, [opened] { return ms_since(opened); }), opened});
      std::lock_guard lock(events_mutex);
      fbs_opened.emplace_back(std::filesystem::path(path).filename().string(), opened);
    };
    // Time marks while the screen is still, so a killed recording keeps its length (docs/fbs.md §2).
    capture_events.tick = [&](int n) {
      if (n >= 1 && n <= static_cast<int>(fbs_files.size())) fbs_files[n - 1].writer->tick();
    };
    // A lost connection's file ends when the loss was noticed.
    capture_events.disconnected = [&, disconnected = capture_events.disconnected](const std::string& reason) {
      disconnected(reason);
      if (!fbs_files.empty()) fbs_files.back().writer->close();
    };
  }
  // Each file ends at the job's end (when known), on its own clock: the MP4s and the FBS agree on the length.
  auto close_fbs = [&](std::optional<std::int64_t> job_end_ms) {
    for (auto& f : fbs_files) {
      std::optional<std::uint32_t> end;
      if (job_end_ms && clock.started()) end = ms_since(f.opened, clock.at(*job_end_ms));
      f.writer->close(end);
    }
  };
  struct CloseFbs {
    std::function<void()> close;
    ~CloseFbs() { close(); }
  } close_fbs_on_error{[&] { close_fbs(std::nullopt); }};  // declared before the capture: after its thread stopped

  std::optional<Capture> capture;  // none when the owner feeds the slot
  if (acquire_) {
    capture.emplace(acquire_, options_.capture, clock, slot_, capture_events);
    capture->start();
  }

  std::vector<SegmentResult> results;
  std::int64_t start_unix_ms = 0;
  int out_w = 0, out_h = 0;
  std::int64_t frames_total = 0, bytes_total = 0;
  Mp4SegmentSink* open_sink = nullptr;
  std::string name_start;

  std::optional<Transcriber> transcriber;
  if (options_.transcript) transcriber.emplace();
  bool transcript_written = false;

  auto open = [&](int index, std::int64_t start_ms) -> std::unique_ptr<SegmentSink> {
    const auto path = mp4_path(index + options_.first_number);
    auto sink = std::make_unique<Mp4SegmentSink>(path, options_.encoder, out_w, out_h, start_ms);
    open_sink = sink.get();
    spdlog::info("record: segment {}/{} → {}", index + options_.first_number, options_.total_count, path);
    if (!transcriber) return sink;
    transcriber->begin(transcript_path(index + options_.first_number), start_ms);
    return std::make_unique<TranscribedSink>(std::move(sink), *transcriber, transcript_written);
  };
  auto closed = [&](int index, std::int64_t start_ms, std::int64_t end_ms, const SegmentStats& stats) {
    open_sink = nullptr;
    SegmentResult result;
    auto& r = result.record;
    r.target = options_.target_label;
    r.index = index + options_.first_number;
    r.count = options_.total_count;
    r.file = segment_name(r.index) + ".mp4";
    r.start_ms = start_ms;
    r.end_ms = end_ms;
    r.start_unix_ms = start_unix_ms;
    r.width = out_w;
    r.height = out_h;
    r.stats = stats;
    r.encoder = options_.encoder;
    result.mp4_path = mp4_path(r.index);
    result.sidecar_path = options_.output_dir + "/" + segment_name(r.index) + ".json";
    r.sha256 = sha256_file(result.mp4_path);
    if (transcriber && transcript_written) {
      result.transcript_path = transcript_path(r.index);
      r.transcript = segment_name(r.index) + ".transcript.jsonl";
    }
    {
      std::lock_guard lock(events_mutex);
      for (const auto& e : events)
        if (e.t_ms >= start_ms && (e.t_ms < end_ms || index + 1 == options_.count)) r.events.push_back(e);
      // The file in use when the segment began and those opened during it (thumbnails at T: docs/recording.md).
      for (std::size_t i = 0; i < fbs_opened.size(); ++i) {
        const auto opened_ms = duration_cast<milliseconds>(fbs_opened[i].second - clock.at(0)).count();
        const bool superseded = i + 1 < fbs_opened.size() &&
                                duration_cast<milliseconds>(fbs_opened[i + 1].second - clock.at(0)).count() <= start_ms;
        if (!superseded && opened_ms < end_ms) r.fbs.push_back({fbs_opened[i].first, start_ms - opened_ms});
      }
    }
    write_file_atomic(result.sidecar_path, to_json(r));
    frames_total += stats.frames;
    bytes_total += stats.bytes;
    spdlog::info("record: segment {}/{} done: {:.3f} s, {} frames, {} bytes", r.index, r.count,
                 (end_ms - start_ms) / 1000.0, stats.frames, stats.bytes);
    if (segment_done) segment_done(result);
    results.push_back(std::move(result));
  };
  Segmenter segmenter(options_.duration_ms, options_.count, open, closed);

  auto report = [&] {
    if (!progress || !clock.started()) return;
    Progress p;
    p.segment = std::min(segmenter.segment_index(), options_.count - 1) + options_.first_number;
    p.count = options_.total_count;
    p.elapsed_ms = std::min(clock.now_ms(), segmenter.end_ms());
    p.total_ms = segmenter.end_ms();
    p.frames = frames_total + (open_sink ? open_sink->frames() : 0);
    p.bytes = bytes_total + (open_sink ? open_sink->bytes() : 0);
    p.dropped = slot_.dropped();
    progress(p);
  };

  const auto first_frame_deadline = steady_clock::now() + options_.first_frame_timeout;
  framebuffer::PixelBuffer spare;
  auto last_report = steady_clock::now();
  auto last_observed = steady_clock::time_point{};
  std::exception_ptr failure;
  std::optional<std::int64_t> job_end;
  std::int64_t last_frame_ms = 0;
  const std::int64_t hibernate_after_ms = std::int64_t{options_.encoder.hibernate_after_s} * 1000;
  auto stop_early = [&] {
    if (!clock.started()) return;
    job_end = clock.now_ms();
    segmenter.stop(*job_end);
  };
  try {
    while (!segmenter.done()) {
      if (cancelled_) {
        stop_early();
        break;
      }
      if (capture && (failure = capture->failure())) {
        stop_early();
        break;
      }
      steady_clock::time_point deadline;
      if (clock.started()) {
        deadline = clock.at(*segmenter.next_deadline());
      } else {
        if (steady_clock::now() >= first_frame_deadline)
          throw IoError("no complete frame from " + options_.target_label + " within " +
                        std::to_string(options_.first_frame_timeout.count() / 1000) + " s");
        deadline = std::min(first_frame_deadline, steady_clock::now() + milliseconds(200));
      }
      deadline = std::min(deadline, steady_clock::now() + milliseconds(500));  // progress and cancel checks
      auto frame = slot_.take(deadline, std::move(spare));
      if (clock.started() && clock.now_ms() >= segmenter.end_ms() && !job_end) {
        // The end: nothing may reach the FBS files after it, while the last segment is being finished.
        job_end = segmenter.end_ms();
        if (capture) capture->stop();
      }
      if (frame) {
        if (out_w == 0) {
          std::tie(out_w, out_h) = output_size(options_.encoder, frame->pixels.width(), frame->pixels.height());
          start_unix_ms = unix_now_ms() - clock.now_ms();
          spdlog::info("record: {}x{} console, {}x{} output, {} × {:.1f} s", frame->pixels.width(),
                       frame->pixels.height(), out_w, out_h, options_.count, options_.duration_ms / 1000.0);
        }
        if (options_.frame_observer && steady_clock::now() - last_observed >= options_.frame_observer_interval) {
          options_.frame_observer(frame->pixels);
          last_observed = steady_clock::now();
        }
        spare = segmenter.frame(std::move(frame->pixels), frame->t_ms);
        last_frame_ms = frame->t_ms;
      } else if (clock.started() && out_w != 0) {
        segmenter.advance(clock.now_ms());
        if (hibernate_after_ms > 0 && clock.now_ms() - last_frame_ms >= hibernate_after_ms) segmenter.compact_held();
      }
      if (steady_clock::now() - last_report >= milliseconds(500)) {
        report();
        last_report = steady_clock::now();
      }
    }
  } catch (...) {
    if (capture) capture->stop();
    throw;
  }
  if (capture) capture->stop();
  close_fbs(job_end);
  report();
  if (failure) std::rethrow_exception(failure);
  return results;
}

}  // namespace vncgate::record
