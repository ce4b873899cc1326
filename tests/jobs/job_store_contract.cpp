// SPDX-License-Identifier: Apache-2.0
#include "jobs/job_store_contract.hpp"

#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "jobs/sample_jobs.hpp"

namespace vncgate::jobs::test {
namespace {

using enum JobState;
using namespace std::chrono_literals;

Fence unclaimed(const Job& job) { return {job.id, 0}; }

}  // namespace

JobStoreContract::Owned JobStoreContract::job_in(JobState state) {
  static const std::map<JobState, std::vector<JobState>> kPath = {
      {connecting, {}},
      {recording, {recording}},
      {uploading, {recording, uploading}},
      {done, {recording, uploading, done}},
  };
  auto job = store_.create(sample_job());
  if (state == queued) return {job, unclaimed(job)};
  if (state == failed || state == cancelled) return {*store_.transition(unclaimed(job), state, "test"), unclaimed(job)};
  auto claimed = store_.claim(worker_);
  if (!claimed || claimed->job.id != job.id) throw std::logic_error("job_in: another job was queued");
  Owned owned{claimed->job, claimed->lease.fence};
  for (auto step : kPath.at(state)) owned.job = *store_.transition(owned.fence, step, "test");
  return owned;
}

TEST_P(JobStoreContract, Create_RecordsQueuedJob_ThatGetReturns) {
  auto created = store_.create(sample_job("vm-1", 4));
  EXPECT_EQ(created.id.size(), 32u);
  EXPECT_EQ(created.state, queued);
  ASSERT_EQ(created.transitions.size(), 1u);
  EXPECT_GT(created.created_unix_ms, 0);

  auto loaded = store_.get(created.id);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->server, "vm-1");
  EXPECT_EQ(loaded->bucket_id, "bucket-vm-1");
  EXPECT_EQ(loaded->target, "vnc://127.0.0.1:5901");
  EXPECT_EQ(loaded->provider, "direct");
  EXPECT_EQ(loaded->duration_s, 60);
  EXPECT_EQ(loaded->count, 4);
  EXPECT_EQ(loaded->encoder_options["width"], 1024);
  EXPECT_EQ(loaded->encoder_options["fbs"], true);
  EXPECT_EQ(loaded->reconnects, 0);
  EXPECT_FALSE(loaded->cancel_requested);
  EXPECT_EQ(loaded->owner, "");
  EXPECT_EQ(loaded->fence_token, 0);
  EXPECT_EQ(loaded->entered_at(queued), created.created_unix_ms);
}

TEST_P(JobStoreContract, Get_UnknownId_IsNullopt) {
  EXPECT_FALSE(store_.get("0123456789abcdef0123456789abcdef"));
  EXPECT_FALSE(store_.transition({"nope", 0}, connecting));
  EXPECT_FALSE(store_.request_cancel("nope"));
  EXPECT_FALSE(store_.add_reconnect({"nope", 0}));
  EXPECT_FALSE(store_.renew_lease(worker_, {"nope", 1}));
  EXPECT_FALSE(store_.release({"nope", 1}));
}

TEST_P(JobStoreContract, Create_RejectsBadArguments_KeepsText_AndMasksPasswords) {
  auto bad = sample_job();
  bad.count = 0;
  EXPECT_THROW(store_.create(bad), UsageError);
  bad = sample_job();
  bad.duration_s = -5;
  EXPECT_THROW(store_.create(bad), UsageError);
  bad = sample_job();
  bad.encoder_options = nlohmann::json::array();
  EXPECT_THROW(store_.create(bad), UsageError);
  auto secret = sample_job();
  secret.target = "vnc://:hunter2@10.1.1.1:5900";
  EXPECT_EQ(store_.create(secret).target, "vnc://:***@10.1.1.1:5900");
  auto text = sample_job("ünïcödé 控制台 'quoted' \"double\" \\back");
  text.encoder_options["label"] = "ëñ \"x\"";
  auto stored = *store_.get(store_.create(text).id);
  EXPECT_EQ(stored.server, text.server);
  EXPECT_EQ(stored.encoder_options, text.encoder_options);
}

TEST_P(JobStoreContract, Transition_EveryPair_AllowedOnesPersistAndIllegalOnesThrow) {
  for (auto from : kAllJobStates) {
    for (auto to : kAllJobStates) {
      auto [job, fence] = job_in(from);
      SCOPED_TRACE(std::string(to_string(from)) + " -> " + std::string(to_string(to)));
      if (is_allowed_transition(from, to)) {
        auto moved = store_.transition(fence, to, "why");
        ASSERT_TRUE(moved);
        EXPECT_EQ(moved->state, to);
        EXPECT_EQ(store_.get(job.id)->state, to);
        EXPECT_EQ(store_.get(job.id)->transitions.back().state, to);
      } else {
        EXPECT_THROW(store_.transition(fence, to), InvalidTransition);
        EXPECT_EQ(store_.get(job.id)->state, from) << "an illegal transition must change nothing";
      }
      // Nothing left to claim: the next job_in claims its own job.
      if (!is_terminal(store_.get(job.id)->state)) store_.transition(fence, failed, "cleared");
    }
  }
}

TEST_P(JobStoreContract, Transition_KeepsTimestampsPerStateAndTheFailureReason) {
  auto [job, fence] = job_in(recording);
  auto failed_job = *store_.transition(fence, failed, "upstream lost for 120 s");
  auto loaded = *store_.get(job.id);
  EXPECT_EQ(loaded.failure_reason, "upstream lost for 120 s");
  ASSERT_EQ(loaded.transitions.size(), 4u);
  EXPECT_EQ(loaded.transitions[3].reason, "upstream lost for 120 s");
  for (std::size_t i = 1; i < loaded.transitions.size(); ++i) {
    EXPECT_GE(loaded.transitions[i].at_unix_ms, loaded.transitions[i - 1].at_unix_ms);
  }
  EXPECT_EQ(loaded.entered_at(failed), failed_job.updated_unix_ms);
  EXPECT_TRUE(loaded.entered_at(recording));
  EXPECT_EQ(loaded.lease_expires_unix_ms, 0) << "a finished job holds no lease";
  EXPECT_EQ(loaded.owner, worker_.id) << "the last owner stays on record";
}

TEST_P(JobStoreContract, List_NewestFirst_FiltersByStateAndServer) {
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(store_.create(sample_job(i % 2 ? "odd" : "even")).id);
  store_.transition(unclaimed(*store_.get(ids[4])), connecting);

  auto all = store_.list({});
  ASSERT_EQ(all.jobs.size(), 6u);
  EXPECT_EQ(all.jobs.front().id, ids.back());
  EXPECT_EQ(all.jobs.back().id, ids.front());
  EXPECT_FALSE(all.next_cursor);

  auto odd = store_.list({.server = "odd"});
  ASSERT_EQ(odd.jobs.size(), 3u);
  for (const auto& job : odd.jobs) EXPECT_EQ(job.server, "odd");

  auto even_queued = store_.list({.state = queued, .server = "even"});
  ASSERT_EQ(even_queued.jobs.size(), 2u);
  EXPECT_EQ(even_queued.jobs[0].id, ids[2]);
  EXPECT_EQ(even_queued.jobs[1].id, ids[0]);
  EXPECT_EQ(store_.list({.state = connecting}).jobs.at(0).transitions.size(), 2u);
}

TEST_P(JobStoreContract, List_CursorPagesAreStable_WhenJobsAreAddedBetweenPages) {
  std::vector<std::string> ids;
  for (int i = 0; i < 7; ++i) ids.push_back(store_.create(sample_job()).id);

  std::vector<std::string> seen;
  JobQuery query{.limit = 3};
  auto page = store_.list(query);
  for (const auto& job : page.jobs) seen.push_back(job.id);
  store_.create(sample_job());  // newer than everything: must not appear on later pages
  while (page.next_cursor) {
    query.cursor = page.next_cursor;
    page = store_.list(query);
    EXPECT_LE(page.jobs.size(), 3u);
    for (const auto& job : page.jobs) {
      seen.push_back(job.id);
      EXPECT_EQ(job.transitions.size(), 1u);
    }
  }
  std::vector<std::string> expected(ids.rbegin(), ids.rend());
  EXPECT_EQ(seen, expected);
}

TEST_P(JobStoreContract, List_RejectsMalformedCursor) {
  EXPECT_THROW(store_.list({.cursor = "abc"}), UsageError);
  EXPECT_THROW(store_.list({.cursor = "-3"}), UsageError);
  EXPECT_TRUE(store_.list({.cursor = "1"}).jobs.empty());
}

TEST_P(JobStoreContract, Segments_Lifecycle_PendingRecordingFinishedUploaded) {
  auto [job, fence] = job_in(recording);
  auto pending = store_.upsert_segment(fence, {.index = 1, .state = SegmentState::pending});
  EXPECT_EQ(pending.state, SegmentState::pending);
  EXPECT_EQ(pending.job_id, job.id);
  auto recording_segment = store_.upsert_segment(
      fence, {.index = 1, .state = SegmentState::recording, .local_path = "/rec/segment-1.mp4", .start_unix_ms = 1234});
  EXPECT_EQ(recording_segment.local_path, "/rec/segment-1.mp4");
  EXPECT_EQ(recording_segment.start_unix_ms, 1234);

  auto finished = store_.finish_segment(fence, 1, sample_result(1));
  EXPECT_EQ(finished.state, SegmentState::finished);
  EXPECT_EQ(finished.bytes, 1000);
  EXPECT_EQ(finished.duration_ms, 60000);
  EXPECT_EQ(finished.frames, 600);
  EXPECT_EQ(finished.sha256, std::string(64, 'a'));
  EXPECT_EQ(finished.end_unix_ms - finished.start_unix_ms, 60000);

  auto retried = store_.record_upload_failure(fence, 1, "503 Slow Down");
  EXPECT_EQ(retried.state, SegmentState::finished);
  EXPECT_EQ(retried.upload_attempts, 1);
  EXPECT_EQ(retried.error, "503 Slow Down");

  auto uploaded = store_.mark_uploaded(fence, 1, "bucket/segment-1.mp4");
  EXPECT_EQ(uploaded.state, SegmentState::uploaded);
  EXPECT_EQ(uploaded.object_key, "bucket/segment-1.mp4");
  EXPECT_EQ(uploaded.upload_attempts, 2);
  EXPECT_EQ(uploaded.error, "");
  EXPECT_EQ(uploaded.local_path, sample_result(1).local_path);  // as finish_segment recorded it
  EXPECT_EQ(store_.segment(job.id, 1)->object_key, "bucket/segment-1.mp4");
}

TEST_P(JobStoreContract, Segments_FinalStatesCannotBeRewritten_NorUploadedUnderAnotherKey) {
  auto [job, fence] = job_in(recording);
  store_.upsert_segment(fence, {.index = 1, .state = SegmentState::recording});
  store_.finish_segment(fence, 1, sample_result(1));
  store_.mark_uploaded(fence, 1, "k1");
  // The same report again (an answer lost on the way back) is no second upload.
  EXPECT_EQ(store_.mark_uploaded(fence, 1, "k1").upload_attempts, 1);
  EXPECT_THROW(store_.mark_uploaded(fence, 1, "k1-again"), InvalidTransition);
  EXPECT_THROW(store_.finish_segment(fence, 1, sample_result(1)), InvalidTransition);
  EXPECT_THROW(store_.upsert_segment(fence, {.index = 1, .state = SegmentState::recording}), InvalidTransition);
  EXPECT_THROW(store_.record_upload_failure(fence, 1, "late"), InvalidTransition);
  EXPECT_EQ(store_.segment(job.id, 1)->object_key, "k1");

  store_.upsert_segment(fence, {.index = 2, .state = SegmentState::recording});
  EXPECT_THROW(store_.mark_uploaded(fence, 2, "not finished"), InvalidTransition);
  store_.fail_segment(fence, 2, "encoder crashed");
  EXPECT_THROW(store_.finish_segment(fence, 2, sample_result(2)), InvalidTransition);
  EXPECT_EQ(store_.segment(job.id, 2)->error, "encoder crashed");
}

TEST_P(JobStoreContract, Segments_UnknownJobOrIndexOrBadArguments_AreUsageErrors) {
  auto [job, fence] = job_in(recording);
  EXPECT_THROW(store_.upsert_segment({"nope", 0}, {.index = 1}), UsageError);
  EXPECT_THROW(store_.upsert_segment(fence, {.index = 0}), UsageError);
  EXPECT_THROW(store_.upsert_segment(fence, {.index = 1, .state = SegmentState::finished}), UsageError);
  EXPECT_THROW(store_.upsert_segment(fence, {.job_id = "other", .index = 1}), UsageError);
  EXPECT_THROW(store_.finish_segment(fence, 9, sample_result(9)), UsageError);
  EXPECT_FALSE(store_.segment(job.id, 9));
  EXPECT_TRUE(store_.segments("nope").empty());
}

TEST_P(JobStoreContract, Segments_ListedInIndexOrder) {
  auto [job, fence] = job_in(recording);
  for (int index : {3, 1, 2}) store_.upsert_segment(fence, {.index = index});
  auto listed = store_.segments(job.id);
  ASSERT_EQ(listed.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(listed[static_cast<std::size_t>(i)].index, i + 1);
}

TEST_P(JobStoreContract, RequestCancel_QueuedJobIsCancelledAtOnce_RunningJobIsFlagged_TerminalUnchanged) {
  auto [running, running_fence] = job_in(recording);
  auto [finished, finished_fence] = job_in(done);
  auto waiting = store_.create(sample_job());
  auto cancelled_job = *store_.request_cancel(waiting.id, "user asked");
  EXPECT_EQ(cancelled_job.state, cancelled);
  EXPECT_EQ(cancelled_job.failure_reason, "user asked");
  EXPECT_THROW(store_.transition(unclaimed(waiting), connecting), InvalidTransition);

  auto flagged = *store_.request_cancel(running.id);
  EXPECT_EQ(flagged.state, recording);
  EXPECT_TRUE(flagged.cancel_requested);
  EXPECT_TRUE(store_.get(running.id)->cancel_requested);
  EXPECT_EQ(store_.get(running.id)->fence_token, running_fence.token) << "a request takes no ownership";

  auto unchanged = *store_.request_cancel(finished.id);
  EXPECT_EQ(unchanged.state, done);
  EXPECT_FALSE(unchanged.cancel_requested);
}

TEST_P(JobStoreContract, Claim_OldestFirst_SkipsCancelRequests_AndGivesALease) {
  auto first = store_.create(sample_job());
  auto second = store_.create(sample_job());
  auto third = store_.create(sample_job());
  store_.request_cancel(first.id);
  const auto before = store_.get(second.id)->updated_unix_ms;
  auto claimed = store_.claim(worker_);
  ASSERT_TRUE(claimed);
  EXPECT_EQ(claimed->job.id, second.id);
  EXPECT_EQ(claimed->job.state, connecting);
  EXPECT_FALSE(claimed->taken_over);
  EXPECT_EQ(claimed->previous_owner, "");
  EXPECT_EQ(claimed->next_index, 1);
  EXPECT_EQ(claimed->remaining, 3);
  EXPECT_EQ(claimed->lease.fence, (Fence{second.id, 1}));
  EXPECT_EQ(claimed->lease.worker_id, worker_.id);
  EXPECT_GE(claimed->lease.expires_unix_ms, before + 60000);
  auto stored = *store_.get(second.id);
  EXPECT_EQ(stored.owner, worker_.id);
  EXPECT_EQ(stored.fence_token, 1);
  EXPECT_EQ(stored.lease_expires_unix_ms, claimed->lease.expires_unix_ms);

  EXPECT_EQ(store_.claim(worker_)->job.id, third.id);
  EXPECT_FALSE(store_.claim(worker_));
  EXPECT_FALSE(store_.claim({"worker-b", 60s})) << "leases that hold are not taken over";
  EXPECT_THROW(store_.claim({"", 60s}), UsageError);
  EXPECT_THROW(store_.claim({"worker-c", 0ms}), UsageError);
}

TEST_P(JobStoreContract, Claim_ExpiredLease_IsTakenOverWithTheNextSegmentAndANewToken) {
  const Worker lost{"worker-lost", 1500ms};  // long enough for the writes below on a busy machine
  store_.create(sample_job("vm", 5));
  auto first = *store_.claim(lost);
  const auto old = first.lease.fence;
  store_.transition(old, recording);
  store_.upsert_segment(old, {.index = 1, .state = SegmentState::recording});
  store_.finish_segment(old, 1, sample_result(1));
  store_.mark_uploaded(old, 1, "k1");
  store_.upsert_segment(old, {.index = 2, .state = SegmentState::recording});
  store_.finish_segment(old, 2, sample_result(2));
  store_.upsert_segment(old, {.index = 3, .state = SegmentState::recording, .local_path = "/rec/segment-3.mp4"});
  EXPECT_FALSE(store_.claim(worker_)) << "the lease still holds";

  std::this_thread::sleep_for(1700ms);
  auto taken = store_.claim(worker_);
  ASSERT_TRUE(taken);
  EXPECT_EQ(taken->job.id, old.job_id);
  EXPECT_TRUE(taken->taken_over);
  EXPECT_EQ(taken->previous_owner, lost.id);
  EXPECT_EQ(taken->job.state, recording) << "a taken-over job keeps its state";
  EXPECT_EQ(taken->lease.fence.token, old.token + 1);
  EXPECT_EQ(taken->next_index, 4);
  EXPECT_EQ(taken->remaining, 3);  // 5 wanted, 2 saved
  ASSERT_EQ(taken->uploaded.size(), 1u);
  ASSERT_EQ(taken->to_upload.size(), 1u);
  EXPECT_EQ(taken->to_upload[0].index, 2);
  ASSERT_EQ(taken->failed.size(), 1u);
  EXPECT_EQ(taken->failed[0].index, 3);
  EXPECT_EQ(taken->failed[0].local_path, "/rec/segment-3.mp4");
  EXPECT_NE(taken->failed[0].error.find("lease of worker worker-lost expired"), std::string::npos)
      << taken->failed[0].error;

  // The worker that lost the job can write nothing more about it.
  EXPECT_THROW(store_.transition(old, uploading), FencedOut);
  EXPECT_THROW(store_.upsert_segment(old, {.index = 4, .state = SegmentState::recording}), FencedOut);
  EXPECT_THROW(store_.finish_segment(old, 2, sample_result(2)), FencedOut);
  EXPECT_THROW(store_.mark_uploaded(old, 2, "k2"), FencedOut);
  EXPECT_THROW(store_.record_upload_failure(old, 2, "x"), FencedOut);
  EXPECT_THROW(store_.fail_segment(old, 3, "x"), FencedOut);
  EXPECT_THROW(store_.add_reconnect(old), FencedOut);
  EXPECT_THROW(store_.renew_lease(lost, old), FencedOut);
  EXPECT_FALSE(store_.release(old));
  try {
    store_.transition(old, failed, "late");
    FAIL() << "a stale fence wrote";
  } catch (const FencedOut& e) {
    EXPECT_EQ(e.token(), old.token);
    EXPECT_EQ(e.current(), old.token + 1);
    EXPECT_NE(std::string(e.what()).find(worker_.id), std::string::npos) << e.what();
  }
  EXPECT_EQ(store_.segment(old.job_id, 2)->state, SegmentState::finished);
  EXPECT_EQ(store_.get(old.job_id)->state, recording);

  // The new owner carries on.
  const auto fence = taken->lease.fence;
  store_.mark_uploaded(fence, 2, "k2");
  store_.upsert_segment(fence, {.index = 4, .state = SegmentState::recording});
  EXPECT_EQ(store_.finish_segment(fence, 4, sample_result(4)).state, SegmentState::finished);
}

TEST_P(JobStoreContract, Claim_DoesNotTakeOverTheCallersOwnExpiredJobs) {
  const Worker quick{"worker-quick", 50ms};
  store_.create(sample_job());
  auto claimed = *store_.claim(quick);
  std::this_thread::sleep_for(150ms);
  EXPECT_FALSE(store_.claim(quick)) << "its own jobs come back through recover_after_restart";
  EXPECT_EQ(store_.claim(worker_)->job.id, claimed.job.id);
}

TEST_P(JobStoreContract, RenewLease_ExtendsIt_UntilTheJobIsOver) {
  const Worker quick{"worker-quick", 1000ms};
  store_.create(sample_job());
  auto claimed = *store_.claim(quick);
  const auto fence = claimed.lease.fence;
  for (int i = 0; i < 5; ++i) {
    std::this_thread::sleep_for(300ms);
    auto renewed = store_.renew_lease(quick, fence);
    ASSERT_TRUE(renewed);
    EXPECT_GE(renewed->expires_unix_ms, claimed.lease.expires_unix_ms);
    EXPECT_EQ(renewed->fence, fence);
  }
  EXPECT_FALSE(store_.claim(worker_)) << "a renewed lease holds past its first expiry";
  store_.request_cancel(fence.job_id);
  EXPECT_TRUE(store_.renew_lease(quick, fence)->cancel_requested) << "how a worker elsewhere learns of a cancel";
  store_.transition(fence, failed, "over");
  EXPECT_FALSE(store_.renew_lease(quick, fence)) << "a finished job needs no lease";
  EXPECT_EQ(store_.get(fence.job_id)->lease_expires_unix_ms, 0);
}

TEST_P(JobStoreContract, Release_LetsAnotherWorkerTakeOverAtOnce) {
  store_.create(sample_job());
  auto claimed = *store_.claim(worker_);
  store_.transition(claimed.lease.fence, recording);
  store_.upsert_segment(claimed.lease.fence, {.index = 1, .state = SegmentState::recording});
  EXPECT_FALSE(store_.claim({"worker-b", 60s}));
  EXPECT_TRUE(store_.release(claimed.lease.fence));
  EXPECT_FALSE(store_.release({claimed.job.id, claimed.lease.fence.token + 1})) << "stale or foreign fence";
  auto taken = store_.claim({"worker-b", 60s});
  ASSERT_TRUE(taken);
  EXPECT_TRUE(taken->taken_over);
  EXPECT_EQ(taken->previous_owner, worker_.id);
  EXPECT_EQ(taken->next_index, 2);
  ASSERT_EQ(taken->failed.size(), 1u);
  EXPECT_NE(taken->failed[0].error.find("released"), std::string::npos) << taken->failed[0].error;
  EXPECT_FALSE(store_.release(claimed.lease.fence));
}

TEST_P(JobStoreContract, RecoverAfterRestart_TakesBackTheWorkersActiveJobsWithWhatIsSaved) {
  auto [job, fence] = job_in(recording);
  auto [over, over_fence] = job_in(done);
  store_.create(sample_job());  // queued: not this worker's
  store_.create(sample_job());
  auto others = *store_.claim({"worker-b", 60s});
  store_.upsert_segment(fence, {.index = 1, .state = SegmentState::recording});
  store_.finish_segment(fence, 1, sample_result(1));
  store_.mark_uploaded(fence, 1, "k1");
  store_.upsert_segment(fence, {.index = 2, .state = SegmentState::recording});
  store_.finish_segment(fence, 2, sample_result(2));
  store_.upsert_segment(fence, {.index = 3, .state = SegmentState::recording, .local_path = "/rec/segment-3.mp4"});

  auto report = store_.recover_after_restart(worker_);
  ASSERT_EQ(report.size(), 1u);
  const auto& entry = report[0];
  EXPECT_EQ(entry.job.id, job.id);
  EXPECT_EQ(entry.job.state, recording);
  EXPECT_TRUE(entry.taken_over);
  EXPECT_EQ(entry.lease.fence.token, fence.token + 1);
  ASSERT_EQ(entry.uploaded.size(), 1u);
  EXPECT_EQ(entry.uploaded[0].index, 1);
  ASSERT_EQ(entry.to_upload.size(), 1u);
  EXPECT_EQ(entry.to_upload[0].index, 2);
  ASSERT_EQ(entry.failed.size(), 1u);
  EXPECT_EQ(entry.failed[0].index, 3);
  EXPECT_EQ(entry.failed[0].local_path, "/rec/segment-3.mp4");
  EXPECT_NE(entry.failed[0].error.find("interrupted"), std::string::npos);
  EXPECT_EQ(entry.next_index, 4);
  EXPECT_EQ(entry.remaining, 1);  // count 3, two saved
  EXPECT_THROW(store_.finish_segment(fence, 3, sample_result(3)), FencedOut) << "the fence before the restart";

  // Again (a second restart): the same job, a newer token, minus what was uploaded meanwhile.
  store_.mark_uploaded(entry.lease.fence, 2, "k2");
  auto again = store_.recover_after_restart(worker_);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].lease.fence.token, fence.token + 2);
  EXPECT_TRUE(again[0].to_upload.empty());
  EXPECT_EQ(again[0].uploaded.size(), 2u);
  EXPECT_EQ(again[0].failed.size(), 1u);
  store_.transition(again[0].lease.fence, failed, "not resumed");
  EXPECT_TRUE(store_.recover_after_restart(worker_).empty());
  EXPECT_EQ(store_.get(over.id)->state, done);
  EXPECT_EQ(store_.get(others.job.id)->fence_token, 1) << "another worker's job is not touched";
  EXPECT_EQ(store_.count_by_state()[queued], 1);
}

TEST_P(JobStoreContract, AddReconnect_Counts) {
  auto [job, fence] = job_in(recording);
  EXPECT_TRUE(store_.add_reconnect(fence));
  EXPECT_TRUE(store_.add_reconnect(fence));
  EXPECT_EQ(store_.get(job.id)->reconnects, 2);
}

TEST_P(JobStoreContract, CountByState_HasEveryState) {
  job_in(recording);
  job_in(done);
  job_in(queued);
  job_in(queued);
  auto counts = store_.count_by_state();
  EXPECT_EQ(counts.size(), std::size(kAllJobStates));
  EXPECT_EQ(counts[queued], 2);
  EXPECT_EQ(counts[recording], 1);
  EXPECT_EQ(counts[done], 1);
  EXPECT_EQ(counts[failed], 0);
}

TEST_P(JobStoreContract, CountQueuedFor_CountsOneClientsWaitingJobs) {
  auto job = sample_job();
  job.client = "key #2";
  const auto created = store_.create(job);
  store_.create(job);
  job.client = "key #1";
  store_.create(job);
  EXPECT_EQ(store_.get(created.id)->client, "key #2");
  EXPECT_EQ(store_.count_queued_for("key #2"), 2);
  EXPECT_EQ(store_.count_queued_for("key #1"), 1);
  EXPECT_EQ(store_.count_queued_for("key #3"), 0);
  ASSERT_TRUE(store_.claim(worker_));  // the oldest, key #2's first: no longer waiting
  EXPECT_EQ(store_.count_queued_for("key #2"), 1);
}

TEST_P(JobStoreContract, AnotherStoreOnTheSameData_SeesEverything) {
  auto [job, fence] = job_in(recording);
  store_.upsert_segment(fence, {.index = 1});
  auto other = site_->open();
  EXPECT_EQ(other->get(job.id)->state, recording);
  EXPECT_EQ(other->segments(job.id).size(), 1u);
  EXPECT_EQ(other->transition(fence, uploading)->state, uploading) << "the fence is the job's, not the store's";
  EXPECT_EQ(store_.get(job.id)->state, uploading);
}

TEST_P(JobStoreContract, WaitForWork_WakesOnANewJob_AndTimesOutWithoutOne) {
  auto mark = store_.work_mark();
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(store_.wait_for_work(mark, 100ms));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 90ms);

  mark = store_.work_mark();
  std::thread creator([&] {
    std::this_thread::sleep_for(100ms);
    store_.create(sample_job());
  });
  EXPECT_TRUE(store_.wait_for_work(mark, 10s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  creator.join();
  // Announced before the wait: not lost.
  mark = store_.work_mark();
  store_.create(sample_job());
  EXPECT_TRUE(store_.wait_for_work(mark, 10s));
  mark = store_.work_mark();
  store_.wake_waiters();
  EXPECT_TRUE(store_.wait_for_work(mark, 0ms));
}

TEST_P(JobStoreContract, WaitForWork_WakesOnAJobCreatedThroughAnotherStore_WhenTheBackendSharesWakeUps) {
  if (!GetParam().wakes_across_stores) GTEST_SKIP() << "this backend wakes the waiters of one store object only";
  auto other = site_->open();
  for (int i = 0; i < 3; ++i) {
    const auto mark = store_.work_mark();
    const auto start = std::chrono::steady_clock::now();
    std::thread creator([&] {
      std::this_thread::sleep_for(50ms);
      other->create(sample_job());
    });
    EXPECT_TRUE(store_.wait_for_work(mark, 10s));
    EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
    creator.join();
  }
}

TEST_P(JobStoreContract, ThreadsOnTwoStores_CreateAndAdvanceJobs_NothingLost) {
  auto second = site_->open();  // another connection, as a second process would have
  constexpr int kThreads = 6, kJobsPerThread = 20;
  std::mutex ids_mutex;
  std::vector<std::string> ids;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      JobStore& store = t % 2 ? store_ : *second;
      for (int i = 0; i < kJobsPerThread; ++i) {
        auto job = store.create(sample_job("thread-" + std::to_string(t)));
        const auto fence = unclaimed(job);
        store.transition(fence, connecting);
        store.transition(fence, recording);
        store.upsert_segment(fence, {.index = 1, .state = SegmentState::recording});
        store.add_reconnect(fence);
        store.finish_segment(fence, 1, sample_result(1));
        store.list({.limit = 5});
        std::lock_guard lock(ids_mutex);
        ids.push_back(job.id);
      }
    });
  }
  for (auto& thread : threads) thread.join();

  ASSERT_EQ(ids.size(), static_cast<std::size_t>(kThreads * kJobsPerThread));
  for (const auto& id : ids) {
    auto job = store_.get(id);
    ASSERT_TRUE(job);
    EXPECT_EQ(job->state, recording);
    EXPECT_EQ(job->reconnects, 1);
    EXPECT_EQ(job->transitions.size(), 3u);
    EXPECT_EQ(store_.segment(id, 1)->state, SegmentState::finished);
  }
  EXPECT_EQ(second->count_by_state()[recording], kThreads * kJobsPerThread);
}

TEST_P(JobStoreContract, ClaimFromManyThreadsOnTwoStores_GivesEachJobToExactlyOneWorker_OldestFirst) {
  auto second = site_->open();
  constexpr int kJobs = 60, kWorkers = 4;
  std::vector<std::string> created;
  for (int i = 0; i < kJobs; ++i) created.push_back(store_.create(sample_job()).id);
  std::mutex claimed_mutex;
  std::multiset<std::string> claimed;
  std::map<std::string, std::vector<std::string>> by_worker;
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&, w] {
      JobStore& store = w % 2 ? store_ : *second;
      const Worker me{"worker-" + std::to_string(w), 60s};
      while (auto job = store.claim(me)) {
        std::lock_guard lock(claimed_mutex);
        claimed.insert(job->job.id);
        by_worker[me.id].push_back(job->job.id);
      }
    });
  }
  for (auto& worker : workers) worker.join();
  EXPECT_EQ(claimed.size(), static_cast<std::size_t>(kJobs));
  EXPECT_EQ(std::set<std::string>(claimed.begin(), claimed.end()).size(), static_cast<std::size_t>(kJobs));
  EXPECT_EQ(store_.count_by_state()[connecting], kJobs);
  // Each worker got its jobs in creation order (oldest first).
  std::map<std::string, std::size_t> position;
  for (std::size_t i = 0; i < created.size(); ++i) position[created[i]] = i;
  for (const auto& [worker, ids] : by_worker) {
    for (std::size_t i = 1; i < ids.size(); ++i) EXPECT_LT(position[ids[i - 1]], position[ids[i]]) << worker;
  }
}

}  // namespace vncgate::jobs::test
