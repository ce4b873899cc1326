// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <functional>
#include <optional>

#include "jobs/job_rows.hpp"
#include "jobs/job_store.hpp"
#include "jobs/work_signal.hpp"

namespace vncgate::jobs {

// Every JobStore method as one transaction of store_logic over a backend's JobRows: a backend supplies only
// run_transaction (and the wake-ups of its waiters through signal()).
class RowsJobStore : public JobStore {
 public:
  Job create(const NewJob& job) override;
  std::optional<Job> get(const std::string& job_id) override;
  JobPage list(const JobQuery& query) override;

  std::optional<ClaimedJob> claim(const Worker& worker) override;
  std::vector<ClaimedJob> recover_after_restart(const Worker& worker) override;
  std::optional<Lease> renew_lease(const Worker& worker, const Fence& fence) override;
  bool release(const Fence& fence) override;

  std::uint64_t work_mark() override { return signal_.mark(); }
  bool wait_for_work(std::uint64_t mark, std::chrono::milliseconds timeout) override {
    return signal_.wait(mark, timeout);
  }
  void wake_waiters() override { signal_.notify(); }

  std::optional<Job> transition(const Fence& fence, JobState to, const std::string& reason = {}) override;
  bool add_reconnect(const Fence& fence) override;
  Segment upsert_segment(const Fence& fence, const Segment& segment) override;
  Segment finish_segment(const Fence& fence, int index, const FinishedSegment& result) override;
  Segment fail_segment(const Fence& fence, int index, const std::string& error) override;
  Segment mark_uploaded(const Fence& fence, int index, const std::string& object_key) override;
  Segment record_upload_failure(const Fence& fence, int index, const std::string& error) override;

  std::optional<Job> request_cancel(const std::string& job_id, const std::string& reason = {}) override;
  std::vector<Segment> segments(const std::string& job_id) override;
  std::optional<Segment> segment(const std::string& job_id, int index) override;
  std::map<JobState, std::int64_t> count_by_state() override;
  std::int64_t count_queued_for(const std::string& client) override;
  bool index_transcript(const std::string& job_id, int index, const std::vector<IndexedLine>& lines) override;
  SearchPage search(const SearchQuery& query) override;

 protected:
  enum class Access { read, write };
  // Runs `work` in one transaction: commits when it returns, rolls back when it throws. A backend may run it
  // again after a fault that left nothing committed (a lost connection, a serialization failure), so `work`
  // touches nothing but the rows. Read transactions see one snapshot; write transactions lock the job rows
  // they read.
  virtual void run_transaction(Access access, const std::function<void(JobRows&)>& work) = 0;
  WorkSignal& signal() { return signal_; }

 private:
  template <class Work>
  auto in_transaction(Access access, Work&& work);

  WorkSignal signal_;
};

}  // namespace vncgate::jobs
