// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "jobs/job_store.hpp"

namespace vncgate::jobs {

namespace sqlite {
class Database;
class Query;
class Statement;
}  // namespace sqlite

struct SqliteOptions {
  std::string path;            // the database file; created with its schema when missing
  int busy_timeout_ms = 5000;  // how long to wait for another process's write lock before StorageError
};

// JobStore on one SQLite file (WAL). One connection, one mutex: every method takes the mutex for its whole
// transaction. Job writes are a few per second per job, far below what one connection commits, and a
// single connection gives read-your-writes across threads without reasoning about snapshots. Other
// processes may open the same file (WAL + busy timeout); claim_next_queued stays exclusive across them
// because its transaction is BEGIN IMMEDIATE.
// The constructor opens the file, checks it is SQLite and applies migrations; throws StorageError with the
// path and SQLite's reason (e.g. "file is not a database") when it cannot.
class SqliteJobStore final : public JobStore {
 public:
  explicit SqliteJobStore(const SqliteOptions& options);
  ~SqliteJobStore() override;

  Job create(const NewJob& job) override;
  std::optional<Job> get(const std::string& job_id) override;
  JobPage list(const JobQuery& query) override;
  std::optional<Job> transition(const std::string& job_id, JobState to, const std::string& reason = {}) override;
  std::optional<Job> claim_next_queued() override;
  std::optional<Job> request_cancel(const std::string& job_id, const std::string& reason = {}) override;
  bool add_reconnect(const std::string& job_id) override;

  Segment upsert_segment(const Segment& segment) override;
  Segment finish_segment(const std::string& job_id, int index, const FinishedSegment& result) override;
  Segment fail_segment(const std::string& job_id, int index, const std::string& error) override;
  Segment mark_uploaded(const std::string& job_id, int index, const std::string& object_key) override;
  Segment record_upload_failure(const std::string& job_id, int index, const std::string& error) override;
  std::vector<Segment> segments(const std::string& job_id) override;
  std::optional<Segment> segment(const std::string& job_id, int index) override;

  std::map<JobState, std::int64_t> count_by_state() override;
  std::vector<RecoveredJob> recover_after_restart() override;

  // The schema version of the open file (schema_migrations), for diagnostics.
  int schema_version() const { return schema_version_; }

 private:
  struct Statements;

  std::optional<Job> load_job(const std::string& job_id);
  std::optional<Segment> load_segment(const std::string& job_id, int index);
  std::vector<Segment> load_segments(const std::string& job_id);
  // Checks and applies a state change inside the caller's transaction; updates `job`.
  void apply_transition(Job& job, JobState to, const std::string& reason);
  // Moves a segment to `to` (checked against the rules, or "must be finished" for same-state updates) with
  // `statement`, whose parameters are ?1 job id, ?2 index, ?3 now, ?4… bound by `bind_rest`.
  Segment change_segment(const std::string& job_id, int index, SegmentState to, sqlite::Statement& statement,
                         const std::function<void(sqlite::Query&)>& bind_rest);

  std::mutex mutex_;
  std::unique_ptr<sqlite::Database> db_;
  std::unique_ptr<Statements> statements_;
  int schema_version_ = 0;
};

}  // namespace vncgate::jobs
