// SPDX-License-Identifier: Apache-2.0
#include "jobs/store_logic.hpp"

#include <algorithm>
#include <charconv>

namespace vncgate::jobs::logic {
namespace {

constexpr const char* kRestartError = "interrupted by restart while recording";

std::optional<std::int64_t> parse_cursor(const std::string& cursor) {
  std::int64_t seq = 0;
  auto [end, ec] = std::from_chars(cursor.data(), cursor.data() + cursor.size(), seq);
  if (ec != std::errc() || end != cursor.data() + cursor.size() || seq <= 0) return std::nullopt;
  return seq;
}

void check_worker(const Worker& worker) {
  if (worker.id.empty()) throw UsageError("a worker needs an id to claim jobs");
  if (worker.lease.count() <= 0) throw UsageError("a worker's lease must be longer than 0 ms");
}

void check_fence(const Job& job, const Fence& fence) {
  if (job.fence_token != fence.token) throw FencedOut(job.id, fence.token, job.fence_token, job.owner);
}

// The job a segment write is about, with the caller's fence checked.
Job fenced_job_for_segment(JobRows& rows, const Fence& fence, int index) {
  auto job = rows.job(fence.job_id);
  if (!job) throw UsageError("no job " + fence.job_id + " for segment " + std::to_string(index));
  check_fence(*job, fence);
  return std::move(*job);
}

// Checks and applies a state change inside the caller's transaction; updates `job`.
void apply_transition(JobRows& rows, Job& job, JobState to, const std::string& reason, std::int64_t now) {
  if (!is_allowed_transition(job.state, to)) {
    throw InvalidTransition("job " + job.id, to_string(job.state), to_string(to));
  }
  if (to == JobState::failed || to == JobState::cancelled) job.failure_reason = reason;
  if (to == JobState::queued) {  // back in the queue: nobody owns it until the next claim
    job.owner.clear();
    job.lease_expires_unix_ms = 0;
    rows.announce_work();
  }
  if (is_terminal(to)) job.lease_expires_unix_ms = 0;  // the owner stays on record as the last one
  job.state = to;
  job.updated_unix_ms = now;
  rows.update_job(job);
  const Transition entry{to, now, reason};
  rows.insert_transition(job.id, static_cast<int>(job.transitions.size()), entry);
  job.transitions.push_back(entry);
}

// Why a segment that was recording when its job changed hands will never finish.
std::string interrupted_error(const Job& job) {
  if (job.owner.empty()) return "interrupted: the job had no owner while this segment was recording";
  if (job.lease_expires_unix_ms == 0) return "interrupted: worker " + job.owner + " released the job while recording";
  return "interrupted: the lease of worker " + job.owner + " expired while it was recording";
}

// Gives `job` (locked) to `worker` with the next fencing token and reports what it has saved. Segments still
// recording fail with `error`: a new owner never continues another's open segment.
ClaimedJob take(JobRows& rows, Job job, const Worker& worker, std::int64_t now, const std::string& error) {
  ClaimedJob claimed;
  claimed.taken_over = is_active(job.state);
  claimed.previous_owner = job.owner;
  job.owner = worker.id;
  job.fence_token += 1;
  job.lease_expires_unix_ms = now + worker.lease.count();
  job.updated_unix_ms = now;
  if (job.state == JobState::queued)
    apply_transition(rows, job, JobState::connecting, {}, now);
  else
    rows.update_job(job);
  int saved = 0;
  for (auto& segment : rows.segments(job.id)) {
    if (segment.state == SegmentState::recording) {
      segment.state = SegmentState::failed;
      segment.error = error;
      segment.updated_unix_ms = now;
      rows.save_segment(segment);
    }
    if (segment.state != SegmentState::pending) claimed.next_index = std::max(claimed.next_index, segment.index + 1);
    switch (segment.state) {
      case SegmentState::finished:
        ++saved;
        claimed.to_upload.push_back(std::move(segment));
        break;
      case SegmentState::uploaded:
        ++saved;
        claimed.uploaded.push_back(std::move(segment));
        break;
      case SegmentState::failed: claimed.failed.push_back(std::move(segment)); break;
      default: break;  // pending: nothing was written; the new owner may reuse the index
    }
  }
  claimed.remaining = std::max(0, job.count - saved);
  claimed.lease = {{job.id, job.fence_token}, worker.id, job.lease_expires_unix_ms, job.cancel_requested};
  claimed.job = std::move(job);
  return claimed;
}

// The stored segment a write is about, with the caller's fence checked.
Segment stored_segment(JobRows& rows, const Fence& fence, int index) {
  fenced_job_for_segment(rows, fence, index);
  auto stored = rows.segment(fence.job_id, index);
  if (!stored) throw UsageError("job " + fence.job_id + " has no segment " + std::to_string(index));
  return std::move(*stored);
}

// Moves `stored` to `to` (checked against the rules; the same state is an update in place, which only a
// finished segment allows: a failed upload attempt), after `change` has set its fields.
template <class Change>
Segment change_segment(JobRows& rows, Segment stored, SegmentState to, Change change) {
  const bool allowed = stored.state == to ? to == SegmentState::finished : is_allowed_transition(stored.state, to);
  if (!allowed) {
    throw InvalidTransition("segment " + std::to_string(stored.index) + " of job " + stored.job_id,
                            to_string(stored.state), to_string(to));
  }
  change(stored);
  stored.state = to;
  stored.updated_unix_ms = rows.now_unix_ms();
  rows.save_segment(stored);
  return stored;
}

}  // namespace

Job create(JobRows& rows, const NewJob& request) {
  if (request.duration_s <= 0 || request.count <= 0) {
    throw UsageError("a job needs a positive duration and count (got " + std::to_string(request.duration_s) + " s, " +
                     std::to_string(request.count) + " segments)");
  }
  if (!request.encoder_options.is_object()) throw UsageError("encoder options must be a JSON object");
  const auto now = rows.now_unix_ms();
  Job job;
  job.id = new_job_id();
  job.bucket_id = request.bucket_id;
  job.server = request.server;
  job.client = request.client;
  job.target = mask_target_secrets(request.target);
  job.provider = request.provider;
  job.duration_s = request.duration_s;
  job.count = request.count;
  job.encoder_options = request.encoder_options;
  job.created_unix_ms = job.updated_unix_ms = now;
  rows.insert_job(job);
  job.transitions.push_back({JobState::queued, now, ""});
  rows.insert_transition(job.id, 0, job.transitions.back());
  rows.announce_work();
  return job;
}

JobPage list(JobRows& rows, const JobQuery& query) {
  const int limit = std::clamp(query.limit, 1, 1000);
  std::optional<std::int64_t> before;
  if (query.cursor) {
    before = parse_cursor(*query.cursor);
    if (!before) throw UsageError("invalid page cursor \"" + *query.cursor + "\"");
  }
  // One more than asked tells whether another page follows.
  auto found = rows.list_jobs(query.state, query.server, before, limit + 1);
  JobPage page;
  if (static_cast<int>(found.size()) > limit) {
    found.pop_back();
    page.next_cursor = std::to_string(found.back().first);
  }
  for (auto& [seq, job] : found) page.jobs.push_back(std::move(job));
  return page;
}

std::optional<ClaimedJob> claim(JobRows& rows, const Worker& worker) {
  check_worker(worker);
  const auto now = rows.now_unix_ms();
  auto id = rows.pick_expired(worker.id, now);
  if (!id) id = rows.pick_queued();
  if (!id) return std::nullopt;
  auto job = rows.job(*id);
  if (!job) throw StorageError("job " + *id + " vanished while it was being claimed");
  const auto error = interrupted_error(*job);
  return take(rows, std::move(*job), worker, now, error);
}

std::vector<ClaimedJob> recover_after_restart(JobRows& rows, const Worker& worker) {
  check_worker(worker);
  const auto now = rows.now_unix_ms();
  std::vector<ClaimedJob> recovered;
  for (const auto& id : rows.active_jobs_of(worker.id)) {
    if (auto job = rows.job(id)) recovered.push_back(take(rows, std::move(*job), worker, now, kRestartError));
  }
  return recovered;
}

std::optional<Lease> renew_lease(JobRows& rows, const Worker& worker, const Fence& fence) {
  check_worker(worker);
  auto job = rows.job(fence.job_id);
  if (!job) return std::nullopt;
  check_fence(*job, fence);
  if (!is_active(job->state)) return std::nullopt;
  const auto now = rows.now_unix_ms();
  job->owner = worker.id;
  job->lease_expires_unix_ms = now + worker.lease.count();
  job->updated_unix_ms = now;
  rows.update_job(*job);
  return Lease{fence, worker.id, job->lease_expires_unix_ms, job->cancel_requested};
}

bool release(JobRows& rows, const Fence& fence) {
  auto job = rows.job(fence.job_id);
  if (!job || job->fence_token != fence.token || !is_active(job->state)) return false;
  job->lease_expires_unix_ms = 0;  // the owner stays on record: its own restart may take the job back
  job->updated_unix_ms = rows.now_unix_ms();
  rows.update_job(*job);
  rows.announce_work();
  return true;
}

std::optional<Job> transition(JobRows& rows, const Fence& fence, JobState to, const std::string& reason) {
  auto job = rows.job(fence.job_id);
  if (!job) return std::nullopt;
  check_fence(*job, fence);
  apply_transition(rows, *job, to, reason, rows.now_unix_ms());
  return job;
}

bool add_reconnect(JobRows& rows, const Fence& fence) {
  auto job = rows.job(fence.job_id);
  if (!job) return false;
  check_fence(*job, fence);
  job->reconnects += 1;
  job->updated_unix_ms = rows.now_unix_ms();
  rows.update_job(*job);
  return true;
}

Segment upsert_segment(JobRows& rows, const Fence& fence, const Segment& segment) {
  if (segment.index < 1) throw UsageError("segment indexes start at 1 (got " + std::to_string(segment.index) + ")");
  if (segment.state != SegmentState::pending && segment.state != SegmentState::recording) {
    throw UsageError(
        "upsert_segment takes pending or recording segments; use finish_segment, fail_segment or "
        "mark_uploaded for the others");
  }
  if (!segment.job_id.empty() && segment.job_id != fence.job_id) {
    throw UsageError("segment of job " + segment.job_id + " written with the fence of job " + fence.job_id);
  }
  fenced_job_for_segment(rows, fence, segment.index);
  auto stored = rows.segment(fence.job_id, segment.index);
  if (stored && stored->state != segment.state && !is_allowed_transition(stored->state, segment.state)) {
    throw InvalidTransition("segment " + std::to_string(segment.index) + " of job " + fence.job_id,
                            to_string(stored->state), to_string(segment.state));
  }
  Segment row = stored.value_or(Segment{.job_id = fence.job_id, .index = segment.index});
  row.state = segment.state;
  row.local_path = segment.local_path;
  row.start_unix_ms = segment.start_unix_ms;
  row.updated_unix_ms = rows.now_unix_ms();
  rows.save_segment(row);
  return row;
}

Segment finish_segment(JobRows& rows, const Fence& fence, int index, const FinishedSegment& result) {
  return change_segment(rows, stored_segment(rows, fence, index), SegmentState::finished, [&](Segment& s) {
    s.local_path = result.local_path;
    s.bytes = result.bytes;
    s.duration_ms = result.duration_ms;
    s.frames = result.frames;
    s.sha256 = result.sha256;
    s.start_unix_ms = result.start_unix_ms;
    s.end_unix_ms = result.end_unix_ms;
    s.error.clear();
  });
}

Segment fail_segment(JobRows& rows, const Fence& fence, int index, const std::string& error) {
  return change_segment(rows, stored_segment(rows, fence, index), SegmentState::failed,
                        [&](Segment& s) { s.error = error; });
}

Segment mark_uploaded(JobRows& rows, const Fence& fence, int index, const std::string& object_key) {
  auto stored = stored_segment(rows, fence, index);
  // The same upload reported again (an answer lost on the way back) is not a second upload.
  if (stored.state == SegmentState::uploaded && stored.object_key == object_key) return stored;
  return change_segment(rows, std::move(stored), SegmentState::uploaded, [&](Segment& s) {
    s.object_key = object_key;
    s.upload_attempts += 1;
    s.error.clear();
  });
}

Segment record_upload_failure(JobRows& rows, const Fence& fence, int index, const std::string& error) {
  return change_segment(rows, stored_segment(rows, fence, index), SegmentState::finished, [&](Segment& s) {
    s.error = error;
    s.upload_attempts += 1;
  });
}

std::optional<Job> request_cancel(JobRows& rows, const std::string& job_id, const std::string& reason) {
  auto job = rows.job(job_id);
  if (!job || is_terminal(job->state)) return job;
  const auto now = rows.now_unix_ms();
  job->cancel_requested = true;
  job->updated_unix_ms = now;
  if (job->state == JobState::queued) {
    // No worker owns it: cancelled at once (apply_transition writes the flag with the state).
    apply_transition(rows, *job, JobState::cancelled, reason.empty() ? "cancelled before it started" : reason, now);
  } else {
    rows.update_job(*job);
  }
  return job;
}

std::map<JobState, std::int64_t> count_by_state(JobRows& rows) {
  std::map<JobState, std::int64_t> counts;
  for (auto state : kAllJobStates) counts[state] = 0;
  for (const auto& [state, n] : rows.count_by_state()) counts[state] = n;
  return counts;
}

bool index_transcript(JobRows& rows, const std::string& job_id, int index, const std::vector<IndexedLine>& lines) {
  auto segment = rows.segment(job_id, index);
  if (!segment) return false;
  std::vector<IndexedLine> kept;
  kept.reserve(std::min(lines.size(), kMaxIndexedLines));
  for (const auto& line : lines) {
    if (kept.size() == kMaxIndexedLines) break;
    std::size_t cut = std::min(line.text.size(), kMaxIndexedLineBytes);
    if (cut < line.text.size())  // not inside a UTF-8 sequence
      while (cut > 0 && (static_cast<unsigned char>(line.text[cut]) & 0xC0) == 0x80) --cut;
    std::string text = line.text.substr(0, cut);
    for (char& c : text)  // control characters (a NUL is no text to PostgreSQL) index as spaces
      if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    kept.push_back({std::max<std::int64_t>(0, line.t_ms), std::move(text)});
  }
  rows.replace_transcript(job_id, index, segment->start_unix_ms, kept);
  return true;
}

SearchPage search(JobRows& rows, const SearchQuery& query) {
  const auto words = search_words(query.words);
  if (query.from_unix_ms && query.to_unix_ms && *query.from_unix_ms > *query.to_unix_ms)
    throw UsageError("the search range ends before it starts");
  std::optional<std::pair<std::int64_t, std::int64_t>> before;
  if (query.cursor) {
    before = parse_search_cursor(*query.cursor);
    if (!before) throw UsageError("invalid page cursor \"" + query.cursor->substr(0, 64) + "\"");
  }
  const int limit = std::clamp(query.limit, 1, kMaxSearchLimit);
  auto found = rows.search(words, query, before, limit + 1);  // one more tells whether a page follows
  SearchPage page;
  if (static_cast<int>(found.size()) > limit) {
    found.pop_back();
    page.next_cursor = search_cursor(found.back().second.at_unix_ms, found.back().first);
  }
  for (auto& [id, hit] : found) page.hits.push_back(std::move(hit));
  return page;
}

}  // namespace vncgate::jobs::logic
