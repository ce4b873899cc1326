// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "jobs/job.hpp"
#include "jobs/transcript_search.hpp"

namespace vncgate::jobs {

// Durable record of recording jobs and their segments, shared by any number of workers. Callers hold a
// JobStore& and never name a backend: SqliteJobStore (one file) and PostgresJobStore (a fleet) are
// interchangeable. docs/jobs.md describes the rules, leases and fencing.
//
// Contract for every implementation:
// - Thread-safe: any method from any thread. Each method is one transaction: it is durable when it returns
//   and all-or-nothing when it throws.
// - Database faults throw vncgate::StorageError; a forbidden state change throws InvalidTransition; a write
//   with a stale fencing token throws FencedOut; malformed arguments (count <= 0, unknown job for a segment)
//   throw UsageError.
// - "Not found" is an ordinary result: std::nullopt or false.
// - Times are wall-clock milliseconds since the Unix epoch, taken by the store (PostgreSQL: the server's clock,
//   so that leases compare on one clock across machines).
class JobStore {
 public:
  virtual ~JobStore() = default;

  // Records a job in `queued` before any work starts; returns it with its new id. Wakes waiting workers.
  virtual Job create(const NewJob& job) = 0;
  virtual std::optional<Job> get(const std::string& job_id) = 0;
  virtual JobPage list(const JobQuery& query) = 0;

  // --- Leases ---------------------------------------------------------------------------------------------
  // Gives `worker` the oldest job it may take, with a new fencing token and a lease of worker.lease: first an
  // active job of another worker whose lease has expired (or was released) — a takeover: its segments still
  // recording become failed and it keeps its state — then the oldest queued job without a cancel request,
  // which moves to connecting. nullopt when there is none. Two callers never get the same job (PostgreSQL:
  // FOR UPDATE SKIP LOCKED). How many jobs a worker holds at once is the caller's limit.
  virtual std::optional<ClaimedJob> claim(const Worker& worker) = 0;
  // At start-up: the active jobs `worker` (the same id) held when it stopped or crashed, taken back at once
  // without waiting for their leases; segments that were recording become failed ("interrupted by restart").
  // Job states are left for the caller (resume from next_index, or fail). Every call issues new fencing tokens.
  virtual std::vector<ClaimedJob> recover_after_restart(const Worker& worker) = 0;
  // The heartbeat: extends the lease to now + worker.lease and reports a cancel request. nullopt when the job
  // needs no lease any more (it is queued or finished, or gone); throws FencedOut when another claim has taken
  // it over.
  virtual std::optional<Lease> renew_lease(const Worker& worker, const Fence& fence) = 0;
  // Drain: gives up an active job at once (no owner, lease expired) so that another worker's claim takes it
  // over without waiting for the lease; the state stays. False when the fence is stale or the job is not
  // active (nothing to release). Wakes waiting workers.
  virtual bool release(const Fence& fence) = 0;

  // --- Wake-ups (waiting workers are woken, not polling) ---------------------------------------------------
  // Take a mark before looking for work; wait_for_work(mark) then returns at once if work was announced since
  // (a job created, re-queued or released, in any process sharing the database), so no wake-up is lost.
  // Lease expiries are not announced: pass a timeout of about the lease to notice those.
  virtual std::uint64_t work_mark() = 0;
  // True when work may have appeared since `mark`; false after `timeout`.
  virtual bool wait_for_work(std::uint64_t mark, std::chrono::milliseconds timeout) = 0;
  // Wakes every waiter in this process at once (shutdown, drain).
  virtual void wake_waiters() = 0;

  // --- Writes of a job's state and segments: each carries the owner's fence -------------------------------
  // Moves a job to `to` if the rules allow it from its current state (throws InvalidTransition otherwise).
  // `reason` is kept as the failure reason for failed/cancelled. Back to queued or into a terminal state ends
  // the lease. nullopt when the job does not exist.
  virtual std::optional<Job> transition(const Fence& fence, JobState to, const std::string& reason = {}) = 0;
  // Adds one to the job's upstream reconnect count; false when the job does not exist.
  virtual bool add_reconnect(const Fence& fence) = 0;
  // Inserts segment (fence.job_id, segment.index) or updates one that is still pending/recording (state, local
  // path, start time). Throws InvalidTransition when the stored segment is finished, uploaded or failed.
  virtual Segment upsert_segment(const Fence& fence, const Segment& segment) = 0;
  // pending|recording → finished with what the recorder wrote.
  virtual Segment finish_segment(const Fence& fence, int index, const FinishedSegment& result) = 0;
  // pending|recording → failed.
  virtual Segment fail_segment(const Fence& fence, int index, const std::string& error) = 0;
  // finished → uploaded. Idempotent for the same object key (a retried call after a lost answer succeeds);
  // another key for an uploaded segment throws InvalidTransition, so a segment is never uploaded twice.
  virtual Segment mark_uploaded(const Fence& fence, int index, const std::string& object_key) = 0;
  // An upload attempt failed: counts it and keeps the error; the segment stays finished for a retry.
  virtual Segment record_upload_failure(const Fence& fence, int index, const std::string& error) = 0;

  // --- Requests without ownership --------------------------------------------------------------------------
  // Sets the cancel flag the owner polls; a job still queued is cancelled at once (no worker owns it).
  // Terminal jobs are returned unchanged. nullopt when the job does not exist.
  virtual std::optional<Job> request_cancel(const std::string& job_id, const std::string& reason = {}) = 0;
  // Ordered by index; empty when the job has none (or does not exist).
  virtual std::vector<Segment> segments(const std::string& job_id) = 0;
  virtual std::optional<Segment> segment(const std::string& job_id, int index) = 0;
  // Jobs per state, every state present (0 when none): the /metrics gauge.
  virtual std::map<JobState, std::int64_t> count_by_state() = 0;
  // Queued jobs that `client` (NewJob::client) asked for: the per-key quota.
  virtual std::int64_t count_queued_for(const std::string& client) = 0;

  // --- Transcript search (docs/text.md) ----------------------------------------------------------------------
  // Indexes segment `index`'s transcript lines, replacing what was indexed for it (a retried upload indexes
  // again harmlessly); at most kMaxIndexedLines lines of kMaxIndexedLineBytes (longer ones are cut). False when
  // the segment does not exist.
  virtual bool index_transcript(const std::string& job_id, int index, const std::vector<IndexedLine>& lines) = 0;
  // Throws UsageError for a query search_words() refuses, a bad cursor or from > to.
  virtual SearchPage search(const SearchQuery& query) = 0;
};

}  // namespace vncgate::jobs
