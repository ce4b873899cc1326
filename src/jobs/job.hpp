// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/error.hpp"

namespace vncgate::jobs {

// queued → connecting → recording → uploading → done | failed | cancelled (see docs/jobs.md for every edge).
enum class JobState { queued, connecting, recording, uploading, done, failed, cancelled };
inline constexpr JobState kAllJobStates[] = {JobState::queued,    JobState::connecting, JobState::recording,
                                             JobState::uploading, JobState::done,       JobState::failed,
                                             JobState::cancelled};

// pending → recording → finished → uploaded; pending|recording → failed.
enum class SegmentState { pending, recording, finished, uploaded, failed };

std::string_view to_string(JobState state);
std::string_view to_string(SegmentState state);
std::optional<JobState> parse_job_state(std::string_view text);
std::optional<SegmentState> parse_segment_state(std::string_view text);

// True for done, failed and cancelled: nothing leaves them.
bool is_terminal(JobState state);
// True for connecting, recording and uploading: a worker owns the job (what recovery looks for).
bool is_active(JobState state);
bool is_allowed_transition(JobState from, JobState to);
bool is_allowed_transition(SegmentState from, SegmentState to);

// A state change the rules forbid (finishing a cancelled job, uploading a segment twice). Usually a race the
// caller lost; the service answers 409 Conflict.
class InvalidTransition : public UsageError {
 public:
  InvalidTransition(const std::string& what, std::string_view from, std::string_view to);
};

// A write carried a fencing token older than the job's: another worker has claimed the job since (this worker's
// lease expired and it was taken over, or it was released and claimed again). The writer has lost the job and
// must stop writing and uploading for it. A UsageError like InvalidTransition (409 should it reach the API), but
// a distinct type so that workers can tell "I lost the job" from "the rules forbid this".
class FencedOut : public UsageError {
 public:
  FencedOut(const std::string& job_id, std::int64_t token, std::int64_t current, const std::string& owner);
  std::int64_t token() const { return token_; }
  std::int64_t current() const { return current_; }

 private:
  std::int64_t token_, current_;
};

// One entry of a job's history: the state it entered and when.
struct Transition {
  JobState state = JobState::queued;
  std::int64_t at_unix_ms = 0;
  std::string reason;  // failure or cancel reason; "" otherwise
};

// What a caller supplies to create a job. `target` must already be redacted (no tokens or passwords);
// the store masks a URL password defensively but does not know every provider's secrets.
struct NewJob {
  std::string bucket_id;
  std::string server;           // as the client named it ("demo", a VM id): the list filter
  std::string target;           // provider string, e.g. "openstack:6f1d…", "vnc://host:5900"
  std::string provider;         // "openstack", "proxmox", "direct"
  std::int64_t duration_s = 0;  // per segment, > 0
  int count = 0;                // segments, > 0
  nlohmann::json encoder_options = nlohmann::json::object();  // width/height/fps/quality/fbs/lossless
  std::string client;  // who asked: "key #N" (the API key's position) or "" (no keys); for per-key quotas
};

struct Job {
  std::string id;  // 32 lower-case hex digits (128 random bits)
  std::string bucket_id, server, target, provider;
  std::int64_t duration_s = 0;
  int count = 0;
  nlohmann::json encoder_options = nlohmann::json::object();
  JobState state = JobState::queued;
  std::string failure_reason;  // set with failed (and cancelled, when a reason was given)
  int reconnects = 0;
  bool cancel_requested = false;
  std::int64_t created_unix_ms = 0, updated_unix_ms = 0;
  std::vector<Transition> transitions;  // oldest first; starts with queued at creation
  // Leases (docs/jobs.md "Leases and fencing"): the worker that holds (or last held) the job, the fencing token
  // of the latest claim (0 = never claimed) and when the lease ends (0 = no lease: queued, released or over).
  std::string owner;
  std::int64_t fence_token = 0;
  std::int64_t lease_expires_unix_ms = 0;
  std::string client;  // as in NewJob

  // When the job last entered `state`, if it ever did.
  std::optional<std::int64_t> entered_at(JobState state) const;
};

// Fields align with record::SegmentRecord / SegmentResult (index is 1-based, sha256 lower-case hex).
struct Segment {
  std::string job_id;
  int index = 0;
  SegmentState state = SegmentState::pending;
  std::string local_path;  // the MP4 on local disk; kept until uploaded
  std::string object_key;  // where storage put it; "" until uploaded
  std::int64_t bytes = 0;
  std::int64_t duration_ms = 0;
  std::int64_t frames = 0;
  std::string sha256;
  std::int64_t start_unix_ms = 0, end_unix_ms = 0;  // wall clock; 0 = not yet
  int upload_attempts = 0;
  std::string error;  // last recording or upload error
  std::int64_t updated_unix_ms = 0;
};

// What a finished segment left on disk (from record::SegmentResult).
struct FinishedSegment {
  std::string local_path;
  std::int64_t bytes = 0;
  std::int64_t duration_ms = 0;
  std::int64_t frames = 0;
  std::string sha256;
  std::int64_t start_unix_ms = 0, end_unix_ms = 0;
};

struct JobQuery {
  std::optional<JobState> state;
  std::optional<std::string> server;
  int limit = 50;                     // clamped to 1..1000
  std::optional<std::string> cursor;  // JobPage::next_cursor of the previous page
};

// Newest first. The cursor is opaque and stable: jobs created after the first page do not shift later pages.
struct JobPage {
  std::vector<Job> jobs;
  std::optional<std::string> next_cursor;  // nullopt on the last page
};

// A worker that claims jobs: one `vncgate serve` process (its recording threads share the id).
struct Worker {
  std::string id;  // unique among live workers and the same across restarts of one (see docs/jobs.md)
  std::chrono::milliseconds lease{20000};  // how long a claim or renewal holds the job without a heartbeat
};

// Proof of ownership: a job and the fencing token of the claim that gave it to the caller. Every write of a
// job's state or segments carries one; the store refuses it with FencedOut once a later claim has taken over.
struct Fence {
  std::string job_id;
  std::int64_t token = 0;
  bool operator==(const Fence&) const = default;
};

struct Lease {
  Fence fence;
  std::string worker_id;
  std::int64_t expires_unix_ms = 0;  // the store's clock (the database server's for PostgreSQL)
  bool cancel_requested = false;     // as of the claim or renewal: how a worker on another node learns of it
};

// A job a worker now owns (claim, recover_after_restart), with what is saved of it.
struct ClaimedJob {
  Job job;  // a claimed queued job is now connecting; a taken-over one keeps its state
  Lease lease;
  bool taken_over = false;         // it was active: its owner's lease expired or was released, or this worker restarted
  std::string previous_owner;      // the worker that held it before ("" when none)
  std::vector<Segment> to_upload;  // finished, not uploaded: upload each, then mark_uploaded
  std::vector<Segment> uploaded;   // safe in storage
  std::vector<Segment> failed;     // including those that were recording when the owner was lost (error says
                                   // why); their partial file is kept at local_path on the owner's disk
  int next_index = 1;              // the next segment (continues the count, never reuses one)
  int remaining = 0;               // segments still to record to reach `count`
};

// 128 random bits (OpenSSL RAND_bytes) as 32 lower-case hex digits.
std::string new_job_id();
// `target` with a URL password replaced by "***" ("vnc://:secret@h:5900" → "vnc://:***@h:5900").
std::string mask_target_secrets(std::string_view target);

}  // namespace vncgate::jobs
