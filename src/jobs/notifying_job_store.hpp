// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <functional>
#include <utility>

#include "jobs/job_store.hpp"

namespace vncgate::jobs {

// A JobStore that calls `changed` after every call that may have changed a job's state (create, transition,
// claim, cancel, recovery), so that figures derived from the store (the /metrics job gauges) are refreshed when
// they change rather than read from the database on every scrape. Everything else is passed through.
// `changed` runs on the caller's thread and must not block.
class NotifyingJobStore : public JobStore {
 public:
  NotifyingJobStore(JobStore& inner, std::function<void()> changed) : inner_(inner), changed_(std::move(changed)) {}

  Job create(const NewJob& job) override { return notify(inner_.create(job)); }
  std::optional<Job> get(const std::string& job_id) override { return inner_.get(job_id); }
  JobPage list(const JobQuery& query) override { return inner_.list(query); }

  std::optional<ClaimedJob> claim(const Worker& worker) override { return notify(inner_.claim(worker)); }
  std::vector<ClaimedJob> recover_after_restart(const Worker& worker) override {
    return notify(inner_.recover_after_restart(worker));
  }
  std::optional<Lease> renew_lease(const Worker& worker, const Fence& fence) override {
    return inner_.renew_lease(worker, fence);
  }
  bool release(const Fence& fence) override { return inner_.release(fence); }

  std::uint64_t work_mark() override { return inner_.work_mark(); }
  bool wait_for_work(std::uint64_t mark, std::chrono::milliseconds timeout) override {
    return inner_.wait_for_work(mark, timeout);
  }
  void wake_waiters() override { inner_.wake_waiters(); }

  std::optional<Job> transition(const Fence& fence, JobState to, const std::string& reason = {}) override {
    return notify(inner_.transition(fence, to, reason));
  }
  bool add_reconnect(const Fence& fence) override { return inner_.add_reconnect(fence); }
  Segment upsert_segment(const Fence& fence, const Segment& segment) override {
    return inner_.upsert_segment(fence, segment);
  }
  Segment finish_segment(const Fence& fence, int index, const FinishedSegment& result) override {
    return inner_.finish_segment(fence, index, result);
  }
  Segment fail_segment(const Fence& fence, int index, const std::string& error) override {
    return inner_.fail_segment(fence, index, error);
  }
  Segment mark_uploaded(const Fence& fence, int index, const std::string& object_key) override {
    return inner_.mark_uploaded(fence, index, object_key);
  }
  Segment record_upload_failure(const Fence& fence, int index, const std::string& error) override {
    return inner_.record_upload_failure(fence, index, error);
  }

  std::optional<Job> request_cancel(const std::string& job_id, const std::string& reason = {}) override {
    return notify(inner_.request_cancel(job_id, reason));
  }
  std::vector<Segment> segments(const std::string& job_id) override { return inner_.segments(job_id); }
  std::optional<Segment> segment(const std::string& job_id, int index) override {
    return inner_.segment(job_id, index);
  }
  std::map<JobState, std::int64_t> count_by_state() override { return inner_.count_by_state(); }
  std::int64_t count_queued_for(const std::string& client) override { return inner_.count_queued_for(client); }
  bool index_transcript(const std::string& job_id, int index, const std::vector<IndexedLine>& lines) override {
    return inner_.index_transcript(job_id, index, lines);
  }
  SearchPage search(const SearchQuery& query) override { return inner_.search(query); }

 private:
  template <class T>
  T notify(T result) {
    changed_();
    return result;
  }

  JobStore& inner_;
  std::function<void()> changed_;
};

}  // namespace vncgate::jobs
