// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "jobs/job_rows.hpp"
#include "jobs/job_store.hpp"

// The JobStore methods written once over JobRows: each backend opens a transaction, calls one of these and
// commits (or rolls back when it throws). Arguments and results are those of JobStore (job_store.hpp).
namespace vncgate::jobs::logic {

Job create(JobRows& rows, const NewJob& job);
JobPage list(JobRows& rows, const JobQuery& query);

std::optional<ClaimedJob> claim(JobRows& rows, const Worker& worker);
std::vector<ClaimedJob> recover_after_restart(JobRows& rows, const Worker& worker);
std::optional<Lease> renew_lease(JobRows& rows, const Worker& worker, const Fence& fence);
bool release(JobRows& rows, const Fence& fence);

std::optional<Job> transition(JobRows& rows, const Fence& fence, JobState to, const std::string& reason);
bool add_reconnect(JobRows& rows, const Fence& fence);
Segment upsert_segment(JobRows& rows, const Fence& fence, const Segment& segment);
Segment finish_segment(JobRows& rows, const Fence& fence, int index, const FinishedSegment& result);
Segment fail_segment(JobRows& rows, const Fence& fence, int index, const std::string& error);
Segment mark_uploaded(JobRows& rows, const Fence& fence, int index, const std::string& object_key);
Segment record_upload_failure(JobRows& rows, const Fence& fence, int index, const std::string& error);

std::optional<Job> request_cancel(JobRows& rows, const std::string& job_id, const std::string& reason);
std::map<JobState, std::int64_t> count_by_state(JobRows& rows);
bool index_transcript(JobRows& rows, const std::string& job_id, int index, const std::vector<IndexedLine>& lines);
SearchPage search(JobRows& rows, const SearchQuery& query);

}  // namespace vncgate::jobs::logic
