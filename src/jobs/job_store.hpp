// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "jobs/job.hpp"

namespace vncgate::jobs {

// Durable record of recording jobs and their segments. Callers hold a JobStore& and never name a backend,
// so SQLite (SqliteJobStore) and a future PostgreSQL store are interchangeable.
//
// Contract for every implementation:
// - Thread-safe: any method from any thread. Each method is one transaction: it is durable when it returns
//   and all-or-nothing when it throws.
// - Database faults throw vncgate::StorageError; a forbidden state change throws InvalidTransition;
//   malformed arguments (count <= 0, unknown job for a segment) throw UsageError.
// - "Not found" is an ordinary result: std::nullopt or false.
// - Times are wall-clock milliseconds since the Unix epoch, taken by the store.
class JobStore {
 public:
  virtual ~JobStore() = default;

  // Records a job in `queued` before any work starts; returns it with its new id.
  virtual Job create(const NewJob& job) = 0;
  virtual std::optional<Job> get(const std::string& job_id) = 0;
  virtual JobPage list(const JobQuery& query) = 0;

  // Moves a job to `to` if the rules allow it from its current state (throws InvalidTransition otherwise).
  // `reason` is kept as the failure reason for failed/cancelled. nullopt when the job does not exist.
  virtual std::optional<Job> transition(const std::string& job_id, JobState to, const std::string& reason = {}) = 0;
  // Moves the oldest queued job to connecting and returns it; nullopt when none is queued. Two callers never
  // claim the same job (the PostgreSQL store does this with FOR UPDATE SKIP LOCKED).
  virtual std::optional<Job> claim_next_queued() = 0;
  // Sets the cancel flag the worker polls; a job still queued is cancelled at once (no worker owns it).
  // Terminal jobs are returned unchanged. nullopt when the job does not exist.
  virtual std::optional<Job> request_cancel(const std::string& job_id, const std::string& reason = {}) = 0;
  // Adds one to the job's upstream reconnect count; false when the job does not exist.
  virtual bool add_reconnect(const std::string& job_id) = 0;

  // Inserts a segment or updates one that is still pending/recording (state, local path, start time).
  // Throws InvalidTransition when the stored segment is finished, uploaded or failed: those are final.
  virtual Segment upsert_segment(const Segment& segment) = 0;
  // pending|recording → finished with what the recorder wrote.
  virtual Segment finish_segment(const std::string& job_id, int index, const FinishedSegment& result) = 0;
  // pending|recording → failed.
  virtual Segment fail_segment(const std::string& job_id, int index, const std::string& error) = 0;
  // finished → uploaded: at most once per segment (a second call throws InvalidTransition).
  virtual Segment mark_uploaded(const std::string& job_id, int index, const std::string& object_key) = 0;
  // An upload attempt failed: counts it and keeps the error; the segment stays finished for a retry.
  virtual Segment record_upload_failure(const std::string& job_id, int index, const std::string& error) = 0;
  // Ordered by index; empty when the job has none (or does not exist).
  virtual std::vector<Segment> segments(const std::string& job_id) = 0;
  virtual std::optional<Segment> segment(const std::string& job_id, int index) = 0;

  // Jobs per state, every state present (0 when none): the /metrics gauge.
  virtual std::map<JobState, std::int64_t> count_by_state() = 0;

  // At start-up, before any worker runs: every job left in connecting/recording/uploading by a crash, with
  // its saved segments. Segments that were recording become failed ("interrupted by restart"), keeping their
  // partial file. Job states are left for the caller to decide: resume (transition to connecting, record from
  // next_index) or fail. Calling it again returns the same jobs, minus what was uploaded or moved meanwhile.
  virtual std::vector<RecoveredJob> recover_after_restart() = 0;
};

}  // namespace vncgate::jobs
