// SPDX-License-Identifier: Apache-2.0
#include "service/uploader.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

#include "text/transcript_reader.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace vncgate::service {

namespace fs = std::filesystem;

namespace {

// The lines of a segment's transcript as the search indexes them; none when there is no transcript, and none
// (logged) when it does not parse: a damaged transcript never holds its segment's upload back.
std::vector<jobs::IndexedLine> transcript_lines(const fs::path& path) {
  std::vector<jobs::IndexedLine> lines;
  std::ifstream in(path);
  if (!in) return lines;
  try {
    for (auto& line : text::TranscriptReader::appeared(in))
      lines.push_back({static_cast<std::int64_t>(line.t * 1000 + 0.5), std::move(line.text)});
  } catch (const CodecError& e) {
    spdlog::warn("upload: {} is not indexed for search: {}", path.string(), e.what());
    lines.clear();
  }
  return lines;
}

}  // namespace

Uploader::Uploader(jobs::JobStore& store, const storage::StorageSite& site, Metrics& metrics, JobSettings settings)
    : store_(store), site_(site), metrics_(metrics), settings_(std::move(settings)) {}

Uploader::~Uploader() { stop(); }

void Uploader::start() {
  std::lock_guard lock(mutex_);
  stopping_ = false;
  if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
}

void Uploader::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Uploader::drain(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mutex_);
  while (std::chrono::steady_clock::now() < deadline) {
    const auto now = std::chrono::steady_clock::now();
    const bool due = std::any_of(queue_.begin(), queue_.end(), [&](const Item& item) { return item.ready_at <= now; });
    if (!due && in_flight_.empty()) return;
    lock.unlock();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // rare (shutdown): polling is simpler than a signal
    lock.lock();
  }
}

void Uploader::segment_growing(const jobs::Fence& fence, int index, const std::string& local_path) {
  {
    std::lock_guard lock(mutex_);
    growing_requests_.push_back({fence.job_id, fence.token, index, local_path, nullptr, 0});
  }
  wake_.notify_all();
}

void Uploader::feed_growing() {
  for (auto it = growing_.begin(); it != growing_.end();) {
    auto& g = it->second;
    std::error_code ec;
    const auto size = fs::file_size(g.path, ec);
    try {
      if (!g.upload) {
        auto job = store_.get(g.job_id);
        if (!job || !still_owned(*job, g.token, "segment " + std::to_string(g.index) + " while recording")) {
          it = growing_.erase(it);
          continue;
        }
        const auto where = site_.locate_job(job->bucket_id);
        site_.storage().ensure_bucket(where.bucket);
        g.upload = site_.storage().begin_growing_upload(where.bucket,
                                                        where.prefix + fs::path(g.path).filename().string(), g.path);
      }
      if (!ec && size > g.reported) {
        const auto before = g.upload->streamed();
        g.upload->grown(size);
        g.reported = size;
        if (g.upload->streamed() > before)
          spdlog::info("upload: job {} segment {}: {} bytes stored while recording", g.job_id, g.index,
                       g.upload->streamed());
      }
    } catch (const Error& e) {
      spdlog::warn("upload: job {} segment {} while recording: {}", g.job_id, g.index, e.what());
      g.reported = ~std::uint64_t{0};  // no more streaming; finish() uploads it whole
    }
    ++it;
  }
}

void Uploader::enqueue_segment(const jobs::Fence& fence, int index) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back({fence.job_id, fence.token, index, {}, {}, std::chrono::steady_clock::now()});
  }
  wake_.notify_all();
}

void Uploader::enqueue_file(const jobs::Fence& fence, const std::string& local_path) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back({fence.job_id, fence.token, 0, local_path, {}, std::chrono::steady_clock::now()});
  }
  wake_.notify_all();
}

void Uploader::enqueue_to_bucket(const std::string& bucket_id, const std::string& local_path) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back({"", 0, 0, local_path, bucket_id, std::chrono::steady_clock::now()});
  }
  wake_.notify_all();
}

void Uploader::job_recorded(const jobs::Fence& fence) { finish_if_complete(fence); }

void Uploader::drop(const jobs::Fence& fence) {
  {
    std::lock_guard lock(mutex_);
    dropped_.insert({fence.job_id, fence.token});
    std::erase_if(queue_, [&](const Item& item) { return item.job_id == fence.job_id && item.token == fence.token; });
  }
  wake_.notify_all();
}

bool Uploader::still_owned(const jobs::Job& job, std::int64_t token, const std::string& what) const {
  if (job.fence_token == token) return true;
  spdlog::warn("upload: job {} {}: fenced out (token {}, the job is worker {}'s with token {}); not uploaded", job.id,
               what, token, job.owner, job.fence_token);
  return false;
}

bool Uploader::pending_for(const std::string& job_id) const {
  return in_flight_.count(job_id) > 0 ||
         std::any_of(queue_.begin(), queue_.end(), [&](const Item& item) { return item.job_id == job_id; });
}

void Uploader::loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    for (auto& g : growing_requests_) growing_[{g.job_id, g.index}] = std::move(g);
    growing_requests_.clear();
    // Streams of a lost job end here (an S3 multipart upload never completed stays invisible).
    std::erase_if(growing_, [&](const auto& g) { return dropped_.count({g.second.job_id, g.second.token}) > 0; });
    // The earliest item that is due; retries wait their turn without blocking the others.
    auto due = std::min_element(queue_.begin(), queue_.end(),
                                [](const Item& a, const Item& b) { return a.ready_at < b.ready_at; });
    const auto now = std::chrono::steady_clock::now();
    if (due == queue_.end() || due->ready_at > now) {
      // Idle: feed the growing segments about once a second, else sleep until something is due.
      auto until = due == queue_.end() ? now + std::chrono::hours(1) : due->ready_at;
      if (!growing_.empty()) until = std::min(until, now + std::chrono::seconds(1));
      wake_.wait_until(lock, until);
      if (!growing_.empty() && !stopping_) {
        lock.unlock();
        feed_growing();
        lock.lock();
      }
      continue;
    }
    Item item = *due;
    queue_.erase(due);
    in_flight_.insert(item.job_id);
    lock.unlock();
    bool done = false;
    try {
      done = upload(item);
    } catch (const std::exception& e) {  // the job store failing: keep the item, try again later
      spdlog::error("upload: job {}: {}", item.job_id, e.what());
    }
    lock.lock();
    in_flight_.erase(item.job_id);
    if (!done) {
      item.ready_at = std::chrono::steady_clock::now() + settings_.upload_retry;
      queue_.push_back(std::move(item));
      continue;
    }
    lock.unlock();
    try {
      if (!item.job_id.empty()) finish_if_complete({item.job_id, item.token});
    } catch (const std::exception& e) {  // the job store failing: look again later (the upload is not redone)
      spdlog::warn("upload: job {}: cannot record the end of its uploads: {}", item.job_id, e.what());
      lock.lock();
      item.ready_at = std::chrono::steady_clock::now() + settings_.upload_retry;
      queue_.push_back(std::move(item));
      continue;
    }
    lock.lock();
  }
}

bool Uploader::upload(const Item& item) {
  std::string bucket_id = item.bucket_id;
  if (bucket_id.empty()) {
    auto job = store_.get(item.job_id);
    const auto what =
        item.index == 0 ? fs::path(item.path).filename().string() : "segment " + std::to_string(item.index);
    if (!job) return true;
    if (!still_owned(*job, item.token, what)) {
      if (item.index > 0) growing_.erase({item.job_id, item.index});
      return true;
    }
    bucket_id = job->bucket_id;
  }
  const auto where = site_.locate_job(bucket_id);
  auto& storage = site_.storage();
  if (item.index == 0) {  // an extra file
    if (!fs::exists(item.path)) return true;
    try {
      storage.ensure_bucket(where.bucket);
      auto put = storage.put_file(where.bucket, where.prefix + fs::path(item.path).filename().string(), item.path);
      metrics_.add("vncgate_upload_bytes_total", "Bytes uploaded to storage", {}, static_cast<double>(put.size));
      if (!settings_.keep_local) fs::remove(item.path);
      return true;
    } catch (const Error& e) {
      spdlog::warn("upload: {}: {} (kept, retrying in {} s)", item.path, e.what(), settings_.upload_retry.count());
      metrics_.add("vncgate_upload_failures_total", "Uploads that failed and will be retried");
      return false;
    }
  }
  const jobs::Fence fence{item.job_id, item.token};
  auto segment = store_.segment(item.job_id, item.index);
  if (!segment || segment->state != jobs::SegmentState::finished) return true;  // uploaded meanwhile, or gone
  const fs::path mp4 = segment->local_path;
  const fs::path sidecar = fs::path(mp4).replace_extension(".json");
  const fs::path transcript = fs::path(mp4).replace_extension(".transcript.jsonl");
  try {
    storage.ensure_bucket(where.bucket);
    if (fs::exists(sidecar)) storage.put_file(where.bucket, where.prefix + sidecar.filename().string(), sidecar);
    if (fs::exists(transcript))
      storage.put_file(where.bucket, where.prefix + transcript.filename().string(), transcript);
    const std::string key = where.prefix + mp4.filename().string();
    // A segment streamed while it was recorded completes that upload; otherwise (or after a failure) whole.
    storage::PutResult put;
    if (auto g = growing_.find({item.job_id, item.index}); g != growing_.end() && g->second.upload) {
      auto streamed = std::move(g->second.upload);
      growing_.erase(g);
      put = streamed->finish();
    } else {
      if (g != growing_.end()) growing_.erase(g);
      if (!fs::exists(mp4)) return settle_lost(fence, *segment, where.bucket, key);
      put = storage.put_file(where.bucket, key, mp4);
    }
    if (fs::exists(transcript)) store_.index_transcript(item.job_id, item.index, transcript_lines(transcript));
    store_.mark_uploaded(fence, item.index, key);
    metrics_.add("vncgate_upload_bytes_total", "Bytes uploaded to storage", {}, static_cast<double>(put.size));
    spdlog::info("upload: job {} segment {} → {}/{} ({} bytes, {} part{})", item.job_id, item.index, where.bucket, key,
                 put.size, put.parts, put.parts == 1 ? "" : "s");
    if (!settings_.keep_local) {
      std::error_code ignored;
      fs::remove(mp4, ignored);
      fs::remove(sidecar, ignored);
      fs::remove(transcript, ignored);
    }
    return true;
  } catch (const jobs::FencedOut& e) {
    // Another worker owns the job now and uploads its finished segments itself (same key: no harm done).
    spdlog::warn("upload: job {} segment {}: {}; dropped here", item.job_id, item.index, e.what());
    return true;
  } catch (const Error& e) {
    store_.record_upload_failure(fence, item.index, e.what());
    metrics_.add("vncgate_upload_failures_total", "Uploads that failed and will be retried");
    spdlog::warn("upload: job {} segment {}: {} (kept at {}, retrying in {} s)", item.job_id, item.index, e.what(),
                 mp4.string(), settings_.upload_retry.count());
    return false;
  }
}

// A finished segment whose file is not on this node: the worker that recorded it stopped before uploading it,
// and its jobs.work_dir is not shared with this node. The object is in storage when that worker's upload
// completed and only the store's note of it was lost; otherwise the segment is gone, and fails with the reason
// instead of being retried forever (which would keep its job `uploading`).
bool Uploader::settle_lost(const jobs::Fence& fence, const jobs::Segment& segment, const std::string& bucket,
                           const std::string& key) {
  if (const auto object = site_.storage().stat(bucket, key);
      object && object->size == static_cast<std::uint64_t>(segment.bytes)) {
    store_.mark_uploaded(fence, segment.index, key);
    spdlog::info("upload: job {} segment {} was already in storage ({})", fence.job_id, segment.index, key);
    return true;
  }
  const auto reason = "its file " + segment.local_path +
                      " is not on this node: the worker that recorded it stopped before uploading it (a shared "
                      "jobs.work_dir lets another worker upload it)";
  store_.fail_segment(fence, segment.index, reason);
  metrics_.add("vncgate_segments_lost_total", "Finished segments whose file was lost with the worker that made them");
  spdlog::warn("upload: job {} segment {}: {}", fence.job_id, segment.index, reason);
  return true;
}

void Uploader::finish_if_complete(const jobs::Fence& fence) {
  const auto& job_id = fence.job_id;
  {
    std::lock_guard lock(mutex_);
    if (pending_for(job_id)) return;
  }
  auto job = store_.get(job_id);
  if (!job || job->state != jobs::JobState::uploading) return;
  for (const auto& segment : store_.segments(job_id))
    if (segment.state == jobs::SegmentState::finished) return;  // still to upload (queued by whoever finished it)
  try {
    store_.transition(fence, jobs::JobState::done);
    spdlog::info("job {}: done", job_id);
  } catch (const jobs::InvalidTransition&) {
    // cancelled or failed meanwhile: that state stands
  } catch (const jobs::FencedOut&) {
    // another worker took the job over: it finishes it
  }
}

}  // namespace vncgate::service
