// SPDX-License-Identifier: Apache-2.0
#include "service/job_runner.hpp"

#include <time.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "fbs/checkpoints.hpp"
#include "fbs/replay.hpp"
#include "framebuffer/png.hpp"
#include "io/endpoint.hpp"
#include "providers/provider_set.hpp"
#include "record/mp4_frame.hpp"
#include "service/job_request.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace vncgate::service {

namespace fs = std::filesystem;
using namespace std::chrono;

namespace {

// What a job's API answer says about a fault: its kind, never the upstream's own text (a banner grab of a port
// that is no console would otherwise read the service behind it). The details go to the log with the job id.
std::string public_failure(const Error& e) {
  switch (e.category()) {
    case ErrorCategory::io: return "io: the console could not be reached or the connection broke";
    case ErrorCategory::protocol: return "protocol: the console did not speak RFB as expected";
    case ErrorCategory::auth: return "auth: the console refused the credentials";
    case ErrorCategory::provider: return "provider: the cloud provider refused or failed";
    case ErrorCategory::storage: return "storage: the recording could not be stored";
    case ErrorCategory::usage:
    case ErrorCategory::config: return std::string(to_string(e.category())) + ": " + e.what();
    default: return "internal: the recording failed (details in the service log)";
  }
}

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// A write of the job store that a short outage of the database (a PostgreSQL restart or failover) must not
// lose: tried again for up to `patience` (the lease: past it another worker may own the job, and fencing
// decides). Rule refusals (FencedOut, InvalidTransition) are not retried.
template <typename Write>
auto durably(milliseconds patience, const std::string& job_id, Write&& write) -> decltype(write()) {
  const auto deadline = steady_clock::now() + patience;
  auto pause = milliseconds(200);
  for (bool warned = false;;) {
    try {
      return write();
    } catch (const StorageError& e) {
      if (steady_clock::now() + pause >= deadline) throw;
      if (!warned)
        spdlog::warn("job {}: the job store failed ({}); trying again for up to {} s", job_id, e.what(),
                     duration_cast<seconds>(patience).count());
      warned = true;
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, milliseconds(2000));
    }
  }
}

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "vncgate";
  return name;
}

// Checkpoint sidecars for the job's FBS files (docs/fbs.md §7), built once the recording ends so that its
// first seek (play --from, convert --from, a player) is instant, and uploaded beside them. Decoding a file
// takes ~0.35 s per hour of a terminal session; on the job's own thread, which carries no network I/O then.
// A sidecar newer than its file is complete already (a resumed job's earlier connection).
void build_checkpoint_sidecars(const std::string& job_id, const std::string& dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() != ".fbs") continue;
    const auto file = entry.path().string();
    const auto sidecar = fbs::checkpoints_path_for(file);
    if (fs::exists(sidecar, ec) && fs::last_write_time(sidecar, ec) >= fs::last_write_time(file, ec)) continue;
    const auto start = std::chrono::steady_clock::now();
    try {
      const auto result = fbs::build_checkpoints(file);
      spdlog::debug(
          "job {}: {} checkpoints for {} in {} ms", job_id, result.checkpoints_added, entry.path().filename().string(),
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count());
    } catch (const Error& e) {  // not a recording we can read: it is uploaded as it is, without a sidecar
      spdlog::warn("job {}: no checkpoints for {}: {}", job_id, entry.path().filename().string(), e.what());
    }
  }
}

}  // namespace

JobRunner::JobRunner(jobs::JobStore& store, Uploader& uploader, Metrics& metrics, ServiceSettings settings)
    : store_(store),
      worker_{settings.jobs.worker_id.empty() ? host_name() : settings.jobs.worker_id, settings.jobs.lease},
      uploader_(uploader),
      metrics_(metrics),
      settings_(std::move(settings)) {}

JobRunner::~JobRunner() {
  stop();
  release_held();
}

void JobRunner::start() {
  fs::create_directories(fs::path(settings_.jobs.work_dir) / "thumbnails");
  spdlog::info("jobs: worker {} (lease {} ms, heartbeat {} ms)", worker_.id, worker_.lease.count(),
               settings_.jobs.heartbeat.count());
  recover();
  std::lock_guard lock(mutex_);
  stopping_ = false;
  beating_ = true;
  heartbeat_ = std::thread([this] { heartbeat(); });
  for (int i = 0; i < std::max(1, settings_.jobs.max_concurrent); ++i) workers_.emplace_back([this] { worker(); });
}

void JobRunner::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (auto& [id, live] : live_)
      if (live.recorder) live.recorder->cancel();
  }
  store_.wake_waiters();
  for (auto& t : workers_) t.join();
  workers_.clear();
}

void JobRunner::release_held() {
  {
    std::lock_guard lock(mutex_);
    beating_ = false;
  }
  beat_.notify_all();
  if (heartbeat_.joinable()) heartbeat_.join();
  std::map<std::string, jobs::Fence> held;
  {
    std::lock_guard lock(mutex_);
    held.swap(held_);
  }
  int released = 0;
  for (const auto& [id, fence] : held) {
    try {
      released += store_.release(fence) ? 1 : 0;
    } catch (const std::exception& e) {
      spdlog::warn("job {}: cannot release it ({}); another worker takes it over when its lease ends", id, e.what());
    }
  }
  if (released > 0) spdlog::info("jobs: released {} job{} for other workers", released, released == 1 ? "" : "s");
}

void JobRunner::wake() { store_.wake_waiters(); }

void JobRunner::hold(const jobs::Fence& fence) {
  std::lock_guard lock(mutex_);
  held_[fence.job_id] = fence;
  lost_.erase(fence.job_id);
}

void JobRunner::heartbeat() {
  std::unique_lock lock(mutex_);
  while (beating_) {
    beat_.wait_for(lock, settings_.jobs.heartbeat, [this] { return !beating_; });
    if (!beating_) return;
    lock.unlock();
    renew_leases();
    lock.lock();
  }
}

void JobRunner::renew_leases() {
  std::map<std::string, jobs::Fence> held;
  {
    std::lock_guard lock(mutex_);
    held = held_;
  }
  for (const auto& [id, fence] : held) {
    try {
      auto lease = store_.renew_lease(worker_, fence);
      if (!lease) {  // over (done, failed, cancelled) or back in the queue: nothing to hold
        std::lock_guard lock(mutex_);
        if (held_.count(id) && held_[id] == fence) held_.erase(id);
      } else if (lease->cancel_requested) {
        cancel(id);  // requested through another node's API
      }
    } catch (const jobs::FencedOut& e) {
      lose(fence, e.what());
    } catch (const std::exception& e) {
      // The store is unreachable: keep trying; if it stays so past the lease, another worker takes over and
      // the next renewal that gets through is fenced out.
      spdlog::warn("job {}: cannot renew its lease: {}", id, e.what());
    }
  }
}

void JobRunner::lose(const jobs::Fence& fence, const std::string& why) {
  const auto& job_id = fence.job_id;
  spdlog::warn("job {}: lost to another worker, stopping here ({})", job_id, why);
  metrics_.add("vncgate_jobs_lost_total", "Jobs this worker lost to another (lease expired, fenced out)");
  uploader_.drop(fence);  // nothing of it goes to storage from here: the new owner's files stand
  std::lock_guard lock(mutex_);
  held_.erase(job_id);
  lost_.insert(job_id);
  if (auto it = live_.find(job_id); it != live_.end() && it->second.recorder) it->second.recorder->cancel();
}

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

std::string JobRunner::work_dir_of(const std::string& job_id) const {
  return (fs::path(settings_.jobs.work_dir) / job_id).string();
}

std::string JobRunner::thumbnail_path(const std::string& job_id) const {
  return (fs::path(settings_.jobs.work_dir) / "thumbnails" / (job_id + ".png")).string();
}

void JobRunner::recover() {
  for (const auto& found : store_.recover_after_restart(worker_)) {
    if (auto work = adopt(found)) {
      std::lock_guard lock(mutex_);
      resumed_.push_back(std::move(*work));
    }
  }
}

std::optional<JobRunner::Work> JobRunner::adopt(const jobs::ClaimedJob& claimed) {
  const auto& job = claimed.job;
  const auto& fence = claimed.lease.fence;
  for (const auto& segment : claimed.to_upload) uploader_.enqueue_segment(fence, segment.index);
  hold(fence);
  const auto patience = settings_.jobs.lease;
  auto move_to = [&](jobs::JobState to, const std::string& reason = {}) {
    durably(patience, job.id, [&] { return store_.transition(fence, to, reason); });
  };
  if (job.cancel_requested) {
    move_to(jobs::JobState::cancelled, "cancelled before the restart");
    return std::nullopt;
  }
  if (job.state == jobs::JobState::uploading || claimed.remaining == 0) {
    if (job.state != jobs::JobState::uploading) {
      if (job.state == jobs::JobState::connecting) move_to(jobs::JobState::recording);
      move_to(jobs::JobState::uploading);
    }
    durably(patience, job.id, [&] { uploader_.job_recorded(fence); });
    return std::nullopt;
  }
  if (claimed.taken_over) {
    spdlog::info("job {}: resuming{} at segment {} ({} to go)", job.id,
                 claimed.previous_owner == worker_.id || claimed.previous_owner.empty()
                     ? std::string(" after restart")
                     : " from worker " + claimed.previous_owner,
                 claimed.next_index, claimed.remaining);
  }
  if (job.state == jobs::JobState::recording) move_to(jobs::JobState::connecting);
  return Work{job, claimed.next_index, claimed.remaining, claimed.taken_over, fence};
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
  while (auto claimed = store_.claim(worker_)) {
    if (auto work = adopt(*claimed)) return work;
  }
  return std::nullopt;
}

void JobRunner::worker() {
  while (true) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    // Taken before looking, so that work announced meanwhile ends the wait below at once.
    const auto mark = store_.work_mark();
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
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    // Woken when a job is created or released (with PostgreSQL, in any process); the timeout catches jobs
    // whose owner's lease ran out, which nothing announces.
    store_.wait_for_work(mark, settings_.jobs.heartbeat);
  }
}

void JobRunner::run(Work work) {
  const auto& job = work.job;
  const auto& fence = work.fence;
  const auto patience = settings_.jobs.lease;
  auto move_to = [&](jobs::JobState to, const std::string& reason = {}) {
    durably(patience, job.id, [&] { return store_.transition(fence, to, reason); });
  };
  auto resolved = resolve_target(settings_.targets, job.server, job.provider);
  if (auto* rejection = std::get_if<Rejection>(&resolved)) {
    move_to(jobs::JobState::failed, rejection->message);
    return;
  }
  const auto target = std::get<ResolvedTarget>(resolved).target;
  const auto encoding = job_encoding(job, settings_.recording);

  auto direct = direct_settings(settings_.targets);
  auto providers = std::make_shared<providers::ProviderSet>(std::move(direct));
  auto parsed = providers::parse_target(target);
  int connections = 0;
  auto acquire = [&, providers]() -> record::Console {
    if (connections++ > 0) {
      durably(patience, job.id, [&] { return store_.add_reconnect(fence); });
      metrics_.add("vncgate_upstream_reconnects_total", "Recording connections re-established after a drop");
    }
    auto console = providers::acquire_blocking(*providers, *parsed);
    rfb::ClientOptions options;
    options.password = console.password;
    return record::Console{std::move(console.endpoint), std::move(options)};
  };

  record::RecordOptions options;
  options.output_dir = work_dir_of(job.id);
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
      framebuffer::write_png(framebuffer::shrink_to_width(fb, 320), thumbnail + ".tmp");
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
    // The segment's row in the store, when it opens (seen by a progress report) or, at the latest, when it
    // closes: a store slow to answer (a database restart) can hold the encoder past a whole segment.
    auto open_row = [&](int index) {
      if (open_segment == 0) move_to(jobs::JobState::recording);
      jobs::Segment segment;
      segment.index = index;
      segment.state = jobs::SegmentState::recording;
      segment.local_path = recorder.mp4_path(index);
      durably(patience, job.id, [&] { return store_.upsert_segment(fence, segment); });
      uploader_.segment_growing(fence, index, segment.local_path);
      open_segment = index;
    };
    auto on_progress = [&](const record::Progress& p) {
      if (p.segment != open_segment) open_row(p.segment);
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
      if (r.index != open_segment) open_row(r.index);
      jobs::FinishedSegment finished;
      finished.local_path = result.mp4_path;
      finished.bytes = r.stats.bytes;
      finished.duration_ms = r.end_ms - r.start_ms;
      finished.frames = r.stats.frames;
      finished.sha256 = r.sha256;
      finished.start_unix_ms = r.start_unix_ms + r.start_ms;
      finished.end_unix_ms = r.start_unix_ms + r.end_ms;
      durably(patience, job.id, [&] { return store_.finish_segment(fence, r.index, finished); });
      uploader_.enqueue_segment(fence, r.index);
    };
    try {
      recorder.run(on_progress, on_segment);
    } catch (const jobs::FencedOut& e) {
      // A write of this run was refused: lost, unless the heartbeat noticed first (and stopped the recorder,
      // whose last segment's write is refused in turn).
      bool noticed = false;
      {
        std::lock_guard lock(mutex_);
        noticed = lost_.count(job.id) > 0;
      }
      if (!noticed) lose(fence, e.what());
    } catch (const Error& e) {
      failure = public_failure(e);
      spdlog::warn("job {}: {}", job.id, e.what());  // the details stay in the log
    }
    std::lock_guard lock(mutex_);
    live_.erase(job.id);
    interrupted = stopping_;
    if (lost_.erase(job.id) > 0) return;  // the new owner carries on; this worker writes nothing more
  } catch (const std::exception& e) {     // the store or the set-up failed
    failure = "internal: the recording could not start (details in the service log)";
    spdlog::error("job {}: {}", job.id, e.what());
    std::lock_guard lock(mutex_);
    live_.erase(job.id);
  }

  if (!interrupted) build_checkpoint_sidecars(job.id, options.output_dir);  // a stopping service does not wait
  for (const auto& entry : fs::directory_iterator(options.output_dir, std::filesystem::directory_options::none)) {
    const auto ext = entry.path().extension();
    if (ext == ".fbs" || ext == ".idx" || ext == ".ckpt") uploader_.enqueue_file(fence, entry.path().string());
  }
  try {
    const auto now = durably(patience, job.id, [&] { return store_.get(job.id); });
    if (!now || jobs::is_terminal(now->state)) return;
    if (now->cancel_requested) {
      move_to(jobs::JobState::cancelled, "cancelled");
      spdlog::info("job {}: cancelled", job.id);
    } else if (interrupted) {
      spdlog::info("job {}: interrupted by shutdown, resumes at the next start", job.id);
    } else if (!failure.empty()) {
      move_to(jobs::JobState::failed, failure);
      spdlog::warn("job {}: failed: {}", job.id, failure);
    } else {
      move_to(jobs::JobState::uploading);
      durably(patience, job.id, [&] { uploader_.job_recorded(fence); });
    }
  } catch (const jobs::FencedOut& e) {
    spdlog::warn("job {}: another worker has taken it over; this one stops ({})", job.id, e.what());
  } catch (const std::exception& e) {
    // No recorder is left for it: holding its lease would keep it active forever. Let the lease run out so
    // that another worker takes it over (or this one at its next start, recover_after_restart).
    spdlog::error("job {}: cannot record its end: {}; its lease is left to run out", job.id, e.what());
    std::lock_guard lock(mutex_);
    held_.erase(job.id);
  }
}

}  // namespace vncgate::service
