// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>
#include <optional>

#include "jobs/job_rows.hpp"
#include "jobs/sqlite/database.hpp"

namespace vncgate::jobs::sqlite {

// Every statement SqliteRows runs, prepared once per connection (SQLITE_PREPARE_PERSISTENT).
struct Statements {
  explicit Statements(Database& db);

  Statement insert_job, insert_transition, select_job, select_transitions, list_jobs, update_job, pick_expired,
      pick_queued, active_of, count_by_state, count_queued_for, select_segment, select_segments, save_segment,
      delete_transcript, insert_transcript_line, search;
};

// JobRows on one SQLite connection inside a transaction the caller opened (BEGIN IMMEDIATE for writes: it
// holds the database's write lock, so rows need no locks of their own). The clock is this machine's, read once
// per transaction.
class SqliteRows final : public JobRows {
 public:
  SqliteRows(Database& db, Statements& statements) : db_(db), statements_(statements) {}

  std::int64_t now_unix_ms() override;
  std::optional<Job> job(const std::string& job_id) override;
  void insert_job(const Job& job) override;
  void update_job(const Job& job) override;
  void insert_transition(const std::string& job_id, int seq, const Transition& transition) override;
  std::vector<std::pair<std::int64_t, Job>> list_jobs(const std::optional<JobState>& state,
                                                      const std::optional<std::string>& server,
                                                      std::optional<std::int64_t> before, int limit) override;
  std::map<JobState, std::int64_t> count_by_state() override;
  std::int64_t count_queued_for(const std::string& client) override;
  std::optional<std::string> pick_expired(const std::string& worker_id, std::int64_t now) override;
  std::optional<std::string> pick_queued() override;
  std::vector<std::string> active_jobs_of(const std::string& worker_id) override;
  std::optional<Segment> segment(const std::string& job_id, int index) override;
  std::vector<Segment> segments(const std::string& job_id) override;
  void save_segment(const Segment& segment) override;
  void replace_transcript(const std::string& job_id, int index, std::int64_t start_unix_ms,
                          const std::vector<IndexedLine>& lines) override;
  std::vector<std::pair<std::int64_t, SearchHit>> search(
      const std::vector<std::string>& words, const SearchQuery& query,
      const std::optional<std::pair<std::int64_t, std::int64_t>>& before, int limit) override;
  void announce_work() override { announced_ = true; }

  // Whether announce_work() was called: the store wakes its waiters after the commit.
  bool announced() const { return announced_; }

 private:
  void load_transitions(Job& job);

  Database& db_;
  Statements& statements_;
  std::optional<std::int64_t> now_;
  bool announced_ = false;
};

}  // namespace vncgate::jobs::sqlite
