// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "jobs/job_rows.hpp"
#include "jobs/postgres/connection.hpp"

namespace vncgate::jobs::postgres {

// The channel workers LISTEN on; a transaction that makes work claimable NOTIFYs it (delivered at commit).
inline constexpr const char* kWorkChannel = "vncgate_jobs";

// JobRows on one connection inside a transaction the caller opened. In a write transaction every job read is
// SELECT … FOR UPDATE (the row stays locked until commit, so checks hold) and claims skip rows other
// transactions hold (FOR UPDATE SKIP LOCKED). `now` is the server's transaction time.
class PostgresRows final : public JobRows {
 public:
  PostgresRows(Connection& connection, bool write, std::int64_t now)
      : connection_(connection), write_(write), now_(now) {}

  std::int64_t now_unix_ms() override { return now_; }
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
  void announce_work() override;

 private:
  Connection& connection_;
  bool write_;
  std::int64_t now_;
  bool announced_ = false;
};

}  // namespace vncgate::jobs::postgres
