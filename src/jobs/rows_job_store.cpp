// SPDX-License-Identifier: Apache-2.0
#include "jobs/rows_job_store.hpp"

#include "jobs/store_logic.hpp"

namespace vncgate::jobs {

template <class Work>
auto RowsJobStore::in_transaction(Access access, Work&& work) {
  std::optional<decltype(work(std::declval<JobRows&>()))> result;
  run_transaction(access, [&](JobRows& rows) { result = work(rows); });
  return std::move(*result);
}

Job RowsJobStore::create(const NewJob& job) {
  return in_transaction(Access::write, [&](JobRows& rows) { return logic::create(rows, job); });
}

std::optional<Job> RowsJobStore::get(const std::string& job_id) {
  return in_transaction(Access::read, [&](JobRows& rows) { return rows.job(job_id); });
}

JobPage RowsJobStore::list(const JobQuery& query) {
  return in_transaction(Access::read, [&](JobRows& rows) { return logic::list(rows, query); });
}

std::optional<ClaimedJob> RowsJobStore::claim(const Worker& worker) {
  return in_transaction(Access::write, [&](JobRows& rows) { return logic::claim(rows, worker); });
}

std::vector<ClaimedJob> RowsJobStore::recover_after_restart(const Worker& worker) {
  return in_transaction(Access::write, [&](JobRows& rows) { return logic::recover_after_restart(rows, worker); });
}

std::optional<Lease> RowsJobStore::renew_lease(const Worker& worker, const Fence& fence) {
  return in_transaction(Access::write, [&](JobRows& rows) { return logic::renew_lease(rows, worker, fence); });
}

bool RowsJobStore::release(const Fence& fence) {
  return in_transaction(Access::write, [&](JobRows& rows) { return logic::release(rows, fence); });
}

std::optional<Job> RowsJobStore::transition(const Fence& fence, JobState to, const std::string& reason) {
  return in_transaction(Access::write, [&](JobRows& rows) { return logic::transition(rows, fence, to, reason); });
}

bool RowsJobStore::add_reconnect(const Fence& fence) {
  return in_transaction(Access::write, [&](JobRows& rows) { return logic::add_reconnect(rows, fence); });
}

Segment RowsJobStore::upsert_segment(const Fence& fence, const Segment& segment) {
  return in_transaction(Access::write, [&](JobRows& rows) { return logic::upsert_segment(rows, fence, segment); });
}

Segment RowsJobStore::finish_segment(const Fence& fence, int index, const FinishedSegment& result) {
  return in_transaction(Access::write,
                        [&](JobRows& rows) { return logic::finish_segment(rows, fence, index, result); });
}

Segment RowsJobStore::fail_segment(const Fence& fence, int index, const std::string& error) {
  return in_transaction(Access::write, [&](JobRows& rows) { return logic::fail_segment(rows, fence, index, error); });
}

Segment RowsJobStore::mark_uploaded(const Fence& fence, int index, const std::string& object_key) {
  return in_transaction(Access::write,
                        [&](JobRows& rows) { return logic::mark_uploaded(rows, fence, index, object_key); });
}

Segment RowsJobStore::record_upload_failure(const Fence& fence, int index, const std::string& error) {
  return in_transaction(Access::write,
                        [&](JobRows& rows) { return logic::record_upload_failure(rows, fence, index, error); });
}

std::optional<Job> RowsJobStore::request_cancel(const std::string& job_id, const std::string& reason) {
  return in_transaction(Access::write, [&](JobRows& rows) { return logic::request_cancel(rows, job_id, reason); });
}

std::vector<Segment> RowsJobStore::segments(const std::string& job_id) {
  return in_transaction(Access::read, [&](JobRows& rows) { return rows.segments(job_id); });
}

std::optional<Segment> RowsJobStore::segment(const std::string& job_id, int index) {
  return in_transaction(Access::read, [&](JobRows& rows) { return rows.segment(job_id, index); });
}

std::map<JobState, std::int64_t> RowsJobStore::count_by_state() {
  return in_transaction(Access::read, [&](JobRows& rows) { return logic::count_by_state(rows); });
}

std::int64_t RowsJobStore::count_queued_for(const std::string& client) {
  return in_transaction(Access::read, [&](JobRows& rows) { return rows.count_queued_for(client); });
}

bool RowsJobStore::index_transcript(const std::string& job_id, int index, const std::vector<IndexedLine>& lines) {
  return in_transaction(Access::write,
                        [&](JobRows& rows) { return logic::index_transcript(rows, job_id, index, lines); });
}

SearchPage RowsJobStore::search(const SearchQuery& query) {
  return in_transaction(Access::read, [&](JobRows& rows) { return logic::search(rows, query); });
}

}  // namespace vncgate::jobs
