// SPDX-License-Identifier: Apache-2.0
#include "service/job_runner.hpp"

#include <time.h>

#include <filesystem>

#include "framebuffer/png.hpp"
#include "io/endpoint.hpp"
#include "providers/provider_set.hpp"
#include "service/job_request.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace vncgate::service {

namespace fs = std::filesystem;
using namespace std::chrono;

namespace {

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// At most 320 pixels wide, by sampling: a thumbnail, cheap enough for the encoder thread.
framebuffer::PixelBuffer shrink(const framebuffer::PixelBuffer& fb) {
  const int step = std::max(1, (fb.width() + 319) / 320);
  framebuffer::PixelBuffer small(std::max(1, fb.width() / step), std::max(1, fb.height() / step));
  for (int y = 0; y < small.height(); ++y) {
    const auto* src = fb.row(y * step);
    auto* dst = small.row(y);
    for (int x = 0; x < small.width(); ++x) dst[x] = src[x * step];
  }
  return small;
}

}  // namespace

JobRunner::JobRunner(jobs::JobStore& store, Uploader& uploader, Metrics& metrics, ServiceSettings settings)
    : store_(store), uploader_(uploader), metrics_(metrics), settings_(std::move(settings)) {}

JobRunner::~JobRunner() { stop(); }

void JobRunner::start() {
  fs::create_directories(fs::path(settings_.jobs.work_dir) / "thumbnails");
  recover();
  std::lock_guard lock(mutex_);
  stopping_ = false;
  for (int i = 0; i < std::max(1, settings_.jobs.max_concurrent); ++i) workers_.emplace_back([this] { worker(); });
}

void JobRunner::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (auto& [id, live] : live_)
      if (live.recorder) live.recorder->cancel();
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
}

void JobRunner::wake() { wake_.notify_one(); }

bool JobRunner::cancel(const std::string& job_id) {
  std::lock_guard lock(mutex_);
  auto it = live_.find(job_id);
  if (it == live_.end() || !it->second.recorder) return false;
  it->second.recorder->cancel();
  return true;
}

std::optional<record::Progress> JobRunner::progress(const std::string& job_id) const {
  std::lock_guard lock(mutex_);
  auto it = live_.find(job_id);
  return it == live_.end() ? std::nullopt : it->second.progress;
}

int JobRunner::active() const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(live_.size());
}

std::string JobRunner::thumbnail_path(const std::string& job_id) const {
  return (fs::path(settings_.jobs.work_dir) / "thumbnails" / (job_id + ".png")).string();
}

void JobRunner::recover() {
  for (auto& found : store_.recover_after_restart()) {
    const auto& job = found.job;
    for (const auto& segment : found.to_upload) uploader_.enqueue_segment(job.id, segment.index);
    if (job.cancel_requested) {
      store_.transition(job.id, jobs::JobState::cancelled, "cancelled before the restart");
    } else if (job.state == jobs::JobState::uploading || found.remaining == 0) {
      if (job.state != jobs::JobState::uploading) {
        if (job.state == jobs::JobState::connecting) store_.transition(job.id, jobs::JobState::recording);
        store_.transition(job.id, jobs::JobState::uploading);
      }
      uploader_.job_recorded(job.id);
    } else {
      spdlog::info("job {}: resuming after restart at segment {} ({} to go)", job.id, found.next_index,
                   found.remaining);
      if (job.state == jobs::JobState::recording) store_.transition(job.id, jobs::JobState::connecting);
      std::lock_guard lock(mutex_);
      resumed_.push_back({job, found.next_index, found.remaining, true});
    }
  }
}

std::optional<JobRunner::Work> JobRunner::next_work() {
  {
    std::lock_guard lock(mutex_);
    if (!resumed_.empty()) {
      auto work = std::move(resumed_.front());
      resumed_.pop_front();
      return work;
    }
  }
  if (auto job = store_.claim_next_queued()) return Work{*job, 1, job->count};
  return std::nullopt;
}

void JobRunner::worker() {
  while (true) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    std::optional<Work> work;
    try {
      work = next_work();
    } catch (const std::exception& e) {
      spdlog::error("jobs: cannot take the next job: {}", e.what());
    }
    if (work) {
      run(std::move(*work));
      continue;
    }
    std::unique_lock lock(mutex_);
    if (stopping_) return;
    // Woken when a job is created; the timeout also catches jobs queued by another process.
    wake_.wait_for(lock, seconds(1));
  }
}

void JobRunner::run(Work work) {
  const auto& job = work.job;
  auto resolved = resolve_target(settings_.targets, job.server, job.provider);
  if (auto* rejection = std::get_if<Rejection>(&resolved)) {
    store_.transition(job.id, jobs::JobState::failed, rejection->message);
    return;
  }
  const auto target = std::get<ResolvedTarget>(resolved).target;
  const auto encoding = job_encoding(job, settings_.recording);

  providers::DirectSettings direct;
  for (const auto& entry : settings_.targets.allow) direct.allow.add(entry);
  auto providers = std::make_shared<providers::ProviderSet>(std::move(direct));
  auto parsed = providers::parse_target(target);
  int connections = 0;
  auto acquire = [&, providers]() -> record::Console {
    if (connections++ > 0) {
      store_.add_reconnect(job.id);
      metrics_.add("vncgate_upstream_reconnects_total", "Recording connections re-established after a drop");
    }
    auto console = providers::acquire_blocking(*providers, *parsed);
    rfb::ClientOptions options;
    options.password = console.password;
    return record::Console{std::move(console.endpoint), std::move(options)};
  };

  record::RecordOptions options;
  options.output_dir = (fs::path(settings_.jobs.work_dir) / job.id).string();
  options.duration_ms = job.duration_s * 1000;
  options.count = work.remaining;
  options.first_number = work.first_number;
  options.total_count = job.count;
  options.encoder = encoding.encoder;
  options.capture.fps = encoding.encoder.fps;
  options.capture.give_up = seconds(encoding.reconnect_timeout_s);
  // A resumed job waits for its console like one that lost it; a new one for a console still booting.
  options.capture.resumed = work.resumed;
  options.capture.connect_grace = seconds(encoding.connect_grace_s);
  options.first_frame_timeout += work.resumed ? options.capture.give_up : options.capture.connect_grace;
  options.target_label = job.target;
  options.fbs = encoding.fbs;
  const auto thumbnail = thumbnail_path(job.id);
  options.frame_observer = [thumbnail](const framebuffer::PixelBuffer& fb) {
    try {
      framebuffer::write_png(shrink(fb), thumbnail + ".tmp");
      fs::rename(thumbnail + ".tmp", thumbnail);
    } catch (const std::exception& e) {
      spdlog::warn("thumbnail: {}", e.what());
    }
  };

  std::string failure;
  bool interrupted = false;  // the service is stopping: resume at the next start
  try {
    record::Recorder recorder(acquire, options);
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;  // stays connecting: resumed at the next start
      live_[job.id].recorder = &recorder;
    }
    metrics_.add("vncgate_recordings_started_total", "Recording runs started (including resumptions)");
    int open_segment = 0;
    std::int64_t frames_seen = 0;
    double cpu_mark = thread_cpu_seconds();
    auto on_progress = [&](const record::Progress& p) {
      if (open_segment == 0) store_.transition(job.id, jobs::JobState::recording);
      if (p.segment != open_segment) {
        jobs::Segment segment;
        segment.job_id = job.id;
        segment.index = p.segment;
        segment.state = jobs::SegmentState::recording;
        segment.local_path = recorder.mp4_path(p.segment);
        store_.upsert_segment(segment);
        uploader_.segment_growing(job.id, p.segment, segment.local_path);
        open_segment = p.segment;
      }
      metrics_.add("vncgate_frames_total", "Frames encoded into recordings", {},
                   static_cast<double>(p.frames - frames_seen));
      frames_seen = p.frames;
      const double cpu = thread_cpu_seconds();
      metrics_.add("vncgate_encode_seconds_total", "CPU seconds spent encoding recordings", {}, cpu - cpu_mark);
      cpu_mark = cpu;
      std::lock_guard lock(mutex_);
      live_[job.id].progress = p;
    };
    auto on_segment = [&](const record::SegmentResult& result) {
      const auto& r = result.record;
      jobs::FinishedSegment finished;
      finished.local_path = result.mp4_path;
      finished.bytes = r.stats.bytes;
      finished.duration_ms = r.end_ms - r.start_ms;
      finished.frames = r.stats.frames;
      finished.sha256 = r.sha256;
      finished.start_unix_ms = r.start_unix_ms + r.start_ms;
      finished.end_unix_ms = r.start_unix_ms + r.end_ms;
      store_.finish_segment(job.id, r.index, finished);
      uploader_.enqueue_segment(job.id, r.index);
    };
    try {
      recorder.run(on_progress, on_segment);
    } catch (const Error& e) {
      failure = e.what();
    }
    std::lock_guard lock(mutex_);
    live_.erase(job.id);
    interrupted = stopping_;
  } catch (const std::exception& e) {  // the store or the set-up failed
    failure = e.what();
    std::lock_guard lock(mutex_);
    live_.erase(job.id);
  }

  for (const auto& entry : fs::directory_iterator(options.output_dir, std::filesystem::directory_options::none)) {
    const auto ext = entry.path().extension();
    if (ext == ".fbs" || ext == ".idx") uploader_.enqueue_file(job.id, entry.path().string());
  }
  try {
    const auto now = store_.get(job.id);
    if (!now || jobs::is_terminal(now->state)) return;
    if (now->cancel_requested) {
      store_.transition(job.id, jobs::JobState::cancelled, "cancelled");
      spdlog::info("job {}: cancelled", job.id);
    } else if (interrupted) {
      spdlog::info("job {}: interrupted by shutdown, resumes at the next start", job.id);
    } else if (!failure.empty()) {
      store_.transition(job.id, jobs::JobState::failed, failure);
      spdlog::warn("job {}: failed: {}", job.id, failure);
    } else {
      store_.transition(job.id, jobs::JobState::uploading);
      uploader_.job_recorded(job.id);
    }
  } catch (const std::exception& e) {
    spdlog::error("job {}: cannot record its end: {}", job.id, e.what());
  }
}

}  // namespace vncgate::service
