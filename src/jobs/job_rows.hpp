// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "jobs/job.hpp"
#include "jobs/transcript_search.hpp"

namespace vncgate::jobs {

// The rows of the job tables inside one open transaction of a backend: what store_logic needs and nothing
// more, so that the rules (transitions, fencing, claiming, recovery) are written once for SQLite and
// PostgreSQL. Every method throws StorageError on a database fault.
class JobRows {
 public:
  virtual ~JobRows() = default;

  // The transaction's clock (PostgreSQL: the server's), milliseconds since the Unix epoch.
  virtual std::int64_t now_unix_ms() = 0;

  // A job with its transitions; in a write transaction its row is locked until the end (FOR UPDATE), so
  // every check made on it holds until commit.
  virtual std::optional<Job> job(const std::string& job_id) = 0;
  virtual void insert_job(const Job& job) = 0;
  // Writes the mutable columns: state, failure_reason, reconnects, cancel_requested, owner, fence_token,
  // lease_expires_unix_ms, updated_unix_ms.
  virtual void update_job(const Job& job) = 0;
  virtual void insert_transition(const std::string& job_id, int seq, const Transition& transition) = 0;
  // Newest first, with transitions: (seq, job) for jobs matching the filters with seq < before (if set).
  virtual std::vector<std::pair<std::int64_t, Job>> list_jobs(const std::optional<JobState>& state,
                                                              const std::optional<std::string>& server,
                                                              std::optional<std::int64_t> before, int limit) = 0;
  virtual std::map<JobState, std::int64_t> count_by_state() = 0;
  virtual std::int64_t count_queued_for(const std::string& client) = 0;

  // Claiming, oldest first; the returned job's row is locked, rows other transactions hold are skipped.
  // An active job whose owner is not `worker_id` and whose lease ended before `now`:
  virtual std::optional<std::string> pick_expired(const std::string& worker_id, std::int64_t now) = 0;
  // A queued job without a cancel request:
  virtual std::optional<std::string> pick_queued() = 0;
  // The active jobs owned by `worker_id`, oldest first, locked.
  virtual std::vector<std::string> active_jobs_of(const std::string& worker_id) = 0;

  virtual std::optional<Segment> segment(const std::string& job_id, int index) = 0;
  virtual std::vector<Segment> segments(const std::string& job_id) = 0;  // by index
  // Inserts or overwrites every column of the segment.
  virtual void save_segment(const Segment& segment) = 0;

  // Transcript search (docs/text.md). Replaces the indexed lines of segment (job_id, index), which started at
  // `start_unix_ms`.
  virtual void replace_transcript(const std::string& job_id, int index, std::int64_t start_unix_ms,
                                  const std::vector<IndexedLine>& lines) = 0;
  // Lines matching every word of `words` (as search_words() split them) and the query's filters, newest first
  // ((at_unix_ms, id) descending), after the cursor position `before` when set; each with its row id.
  virtual std::vector<std::pair<std::int64_t, SearchHit>> search(
      const std::vector<std::string>& words, const SearchQuery& query,
      const std::optional<std::pair<std::int64_t, std::int64_t>>& before, int limit) = 0;

  // Tells waiting workers (every process, once the transaction commits) that there may be work to claim.
  virtual void announce_work() = 0;
};

}  // namespace vncgate::jobs
