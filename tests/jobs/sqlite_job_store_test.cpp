// SPDX-License-Identifier: Apache-2.0
#include "jobs/sqlite/sqlite_job_store.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <vector>

#include "jobs/sample_jobs.hpp"
#include "support/process.hpp"

namespace vncgate::jobs {
namespace {

using test::sample_job;
using test::sample_result;
using enum JobState;

class SqliteJobStoreTest : public ::testing::Test {
 protected:
  vncgate::test::TempDir dir_{"vncgate-jobs"};
  SqliteJobStore store_{{dir_.file("jobs.db")}};

  // A new job walked from queued to `state` along the shortest legal path.
  Job job_in(JobState state) {
    static const std::map<JobState, std::vector<JobState>> kPath = {
        {queued, {}},
        {connecting, {connecting}},
        {recording, {connecting, recording}},
        {uploading, {connecting, recording, uploading}},
        {done, {connecting, recording, uploading, done}},
        {failed, {failed}},
        {cancelled, {cancelled}},
    };
    auto job = store_.create(sample_job());
    for (auto step : kPath.at(state)) job = *store_.transition(job.id, step, "test");
    return job;
  }
};

TEST_F(SqliteJobStoreTest, Create_RecordsQueuedJob_ThatGetReturns) {
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
  EXPECT_EQ(loaded->entered_at(queued), created.created_unix_ms);
}

TEST_F(SqliteJobStoreTest, Get_UnknownId_IsNullopt) {
  EXPECT_FALSE(store_.get("0123456789abcdef0123456789abcdef"));
  EXPECT_FALSE(store_.transition("nope", connecting));
  EXPECT_FALSE(store_.request_cancel("nope"));
  EXPECT_FALSE(store_.add_reconnect("nope"));
}

TEST_F(SqliteJobStoreTest, Create_RejectsNonPositiveDurationOrCount_AndMasksPasswords) {
  auto bad = sample_job();
  bad.count = 0;
  EXPECT_THROW(store_.create(bad), UsageError);
  bad = sample_job();
  bad.duration_s = -5;
  EXPECT_THROW(store_.create(bad), UsageError);
  auto secret = sample_job();
  secret.target = "vnc://:hunter2@10.1.1.1:5900";
  EXPECT_EQ(store_.create(secret).target, "vnc://:***@10.1.1.1:5900");
}

TEST_F(SqliteJobStoreTest, Transition_EveryPair_AllowedOnesPersistAndIllegalOnesThrow) {
  for (auto from : kAllJobStates) {
    for (auto to : kAllJobStates) {
      auto job = job_in(from);
      SCOPED_TRACE(std::string(to_string(from)) + " -> " + std::string(to_string(to)));
      if (is_allowed_transition(from, to)) {
        auto moved = store_.transition(job.id, to, "why");
        ASSERT_TRUE(moved);
        EXPECT_EQ(moved->state, to);
        EXPECT_EQ(store_.get(job.id)->state, to);
        EXPECT_EQ(store_.get(job.id)->transitions.back().state, to);
      } else {
        EXPECT_THROW(store_.transition(job.id, to), InvalidTransition);
        EXPECT_EQ(store_.get(job.id)->state, from) << "an illegal transition must change nothing";
      }
    }
  }
}

TEST_F(SqliteJobStoreTest, Transition_KeepsTimestampsPerStateAndTheFailureReason) {
  auto job = job_in(recording);
  auto failed_job = *store_.transition(job.id, failed, "upstream lost for 120 s");
  auto loaded = *store_.get(job.id);
  EXPECT_EQ(loaded.failure_reason, "upstream lost for 120 s");
  ASSERT_EQ(loaded.transitions.size(), 4u);
  EXPECT_EQ(loaded.transitions[3].reason, "upstream lost for 120 s");
  for (std::size_t i = 1; i < loaded.transitions.size(); ++i) {
    EXPECT_GE(loaded.transitions[i].at_unix_ms, loaded.transitions[i - 1].at_unix_ms);
  }
  EXPECT_EQ(loaded.entered_at(failed), failed_job.updated_unix_ms);
  EXPECT_TRUE(loaded.entered_at(recording));
}

TEST_F(SqliteJobStoreTest, List_NewestFirst_FiltersByStateAndServer) {
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(store_.create(sample_job(i % 2 ? "odd" : "even")).id);
  store_.transition(ids[4], connecting);

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

TEST_F(SqliteJobStoreTest, List_CursorPagesAreStable_WhenJobsAreAddedBetweenPages) {
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
    for (const auto& job : page.jobs) seen.push_back(job.id);
  }
  std::vector<std::string> expected(ids.rbegin(), ids.rend());
  EXPECT_EQ(seen, expected);
}

TEST_F(SqliteJobStoreTest, List_RejectsMalformedCursor) {
  EXPECT_THROW(store_.list({.cursor = "abc"}), UsageError);
  EXPECT_THROW(store_.list({.cursor = "-3"}), UsageError);
  EXPECT_TRUE(store_.list({.cursor = "1"}).jobs.empty());
}

TEST_F(SqliteJobStoreTest, Segments_Lifecycle_PendingRecordingFinishedUploaded) {
  auto job = job_in(recording);
  auto pending = store_.upsert_segment({.job_id = job.id, .index = 1, .state = SegmentState::pending});
  EXPECT_EQ(pending.state, SegmentState::pending);
  auto recording_segment = store_.upsert_segment({.job_id = job.id,
                                                  .index = 1,
                                                  .state = SegmentState::recording,
                                                  .local_path = "/rec/segment-1.mp4",
                                                  .start_unix_ms = 1234});
  EXPECT_EQ(recording_segment.local_path, "/rec/segment-1.mp4");
  EXPECT_EQ(recording_segment.start_unix_ms, 1234);

  auto finished = store_.finish_segment(job.id, 1, sample_result(1));
  EXPECT_EQ(finished.state, SegmentState::finished);
  EXPECT_EQ(finished.bytes, 1000);
  EXPECT_EQ(finished.duration_ms, 60000);
  EXPECT_EQ(finished.frames, 600);
  EXPECT_EQ(finished.sha256, std::string(64, 'a'));
  EXPECT_EQ(finished.end_unix_ms - finished.start_unix_ms, 60000);

  auto retried = store_.record_upload_failure(job.id, 1, "503 Slow Down");
  EXPECT_EQ(retried.state, SegmentState::finished);
  EXPECT_EQ(retried.upload_attempts, 1);
  EXPECT_EQ(retried.error, "503 Slow Down");

  auto uploaded = store_.mark_uploaded(job.id, 1, "bucket/segment-1.mp4");
  EXPECT_EQ(uploaded.state, SegmentState::uploaded);
  EXPECT_EQ(uploaded.object_key, "bucket/segment-1.mp4");
  EXPECT_EQ(uploaded.upload_attempts, 2);
  EXPECT_EQ(uploaded.error, "");
  EXPECT_EQ(uploaded.local_path, sample_result(1).local_path);  // as finish_segment recorded it
}

TEST_F(SqliteJobStoreTest, Segments_FinalStatesCannotBeRewritten_NorUploadedTwice) {
  auto job = job_in(recording);
  store_.upsert_segment({.job_id = job.id, .index = 1, .state = SegmentState::recording});
  store_.finish_segment(job.id, 1, sample_result(1));
  store_.mark_uploaded(job.id, 1, "k1");
  EXPECT_THROW(store_.mark_uploaded(job.id, 1, "k1-again"), InvalidTransition);
  EXPECT_THROW(store_.finish_segment(job.id, 1, sample_result(1)), InvalidTransition);
  EXPECT_THROW(store_.upsert_segment({.job_id = job.id, .index = 1, .state = SegmentState::recording}),
               InvalidTransition);
  EXPECT_THROW(store_.record_upload_failure(job.id, 1, "late"), InvalidTransition);
  EXPECT_EQ(store_.segment(job.id, 1)->object_key, "k1");

  store_.upsert_segment({.job_id = job.id, .index = 2, .state = SegmentState::recording});
  EXPECT_THROW(store_.mark_uploaded(job.id, 2, "not finished"), InvalidTransition);
  store_.fail_segment(job.id, 2, "encoder crashed");
  EXPECT_THROW(store_.finish_segment(job.id, 2, sample_result(2)), InvalidTransition);
  EXPECT_EQ(store_.segment(job.id, 2)->error, "encoder crashed");
}

TEST_F(SqliteJobStoreTest, Segments_UnknownJobOrIndexOrBadArguments_AreUsageErrors) {
  auto job = job_in(recording);
  EXPECT_THROW(store_.upsert_segment({.job_id = "nope", .index = 1}), UsageError);
  EXPECT_THROW(store_.upsert_segment({.job_id = job.id, .index = 0}), UsageError);
  EXPECT_THROW(store_.upsert_segment({.job_id = job.id, .index = 1, .state = SegmentState::finished}), UsageError);
  EXPECT_THROW(store_.finish_segment(job.id, 9, sample_result(9)), UsageError);
  EXPECT_FALSE(store_.segment(job.id, 9));
  EXPECT_TRUE(store_.segments("nope").empty());
}

TEST_F(SqliteJobStoreTest, Segments_ListedInIndexOrder) {
  auto job = job_in(recording);
  for (int index : {3, 1, 2}) store_.upsert_segment({.job_id = job.id, .index = index});
  auto listed = store_.segments(job.id);
  ASSERT_EQ(listed.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(listed[static_cast<std::size_t>(i)].index, i + 1);
}

TEST_F(SqliteJobStoreTest, RequestCancel_QueuedJobIsCancelledAtOnce_RunningJobIsFlagged_TerminalUnchanged) {
  auto waiting = store_.create(sample_job());
  auto cancelled_job = *store_.request_cancel(waiting.id, "user asked");
  EXPECT_EQ(cancelled_job.state, cancelled);
  EXPECT_EQ(cancelled_job.failure_reason, "user asked");
  EXPECT_THROW(store_.transition(waiting.id, connecting), InvalidTransition);

  auto running = job_in(recording);
  auto flagged = *store_.request_cancel(running.id);
  EXPECT_EQ(flagged.state, recording);
  EXPECT_TRUE(flagged.cancel_requested);
  EXPECT_TRUE(store_.get(running.id)->cancel_requested);

  auto finished = job_in(done);
  auto unchanged = *store_.request_cancel(finished.id);
  EXPECT_EQ(unchanged.state, done);
  EXPECT_FALSE(unchanged.cancel_requested);
}

TEST_F(SqliteJobStoreTest, ClaimNextQueued_OldestFirst_SkipsCancelRequests) {
  auto first = store_.create(sample_job());
  auto second = store_.create(sample_job());
  auto third = store_.create(sample_job());
  store_.request_cancel(first.id);
  auto claimed = store_.claim_next_queued();
  ASSERT_TRUE(claimed);
  EXPECT_EQ(claimed->id, second.id);
  EXPECT_EQ(claimed->state, connecting);
  EXPECT_EQ(store_.claim_next_queued()->id, third.id);
  EXPECT_FALSE(store_.claim_next_queued());
}

TEST_F(SqliteJobStoreTest, AddReconnect_Counts) {
  auto job = job_in(recording);
  EXPECT_TRUE(store_.add_reconnect(job.id));
  EXPECT_TRUE(store_.add_reconnect(job.id));
  EXPECT_EQ(store_.get(job.id)->reconnects, 2);
}

TEST_F(SqliteJobStoreTest, CountByState_HasEveryState) {
  job_in(queued);
  job_in(queued);
  job_in(recording);
  job_in(done);
  auto counts = store_.count_by_state();
  EXPECT_EQ(counts.size(), std::size(kAllJobStates));
  EXPECT_EQ(counts[queued], 2);
  EXPECT_EQ(counts[recording], 1);
  EXPECT_EQ(counts[done], 1);
  EXPECT_EQ(counts[failed], 0);
}

TEST_F(SqliteJobStoreTest, RecoverAfterRestart_ReportsActiveJobsWithWhatIsSaved) {
  auto idle = job_in(queued);
  auto over = job_in(done);
  auto job = job_in(recording);
  store_.upsert_segment({.job_id = job.id, .index = 1, .state = SegmentState::recording});
  store_.finish_segment(job.id, 1, sample_result(1));
  store_.mark_uploaded(job.id, 1, "k1");
  store_.upsert_segment({.job_id = job.id, .index = 2, .state = SegmentState::recording});
  store_.finish_segment(job.id, 2, sample_result(2));
  store_.upsert_segment(
      {.job_id = job.id, .index = 3, .state = SegmentState::recording, .local_path = "/rec/segment-3.mp4"});

  auto report = store_.recover_after_restart();
  ASSERT_EQ(report.size(), 1u);
  const auto& entry = report[0];
  EXPECT_EQ(entry.job.id, job.id);
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

  // Idempotent until the caller acts; an upload removes the segment from to_upload.
  store_.mark_uploaded(job.id, 2, "k2");
  auto again = store_.recover_after_restart();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_TRUE(again[0].to_upload.empty());
  EXPECT_EQ(again[0].uploaded.size(), 2u);
  EXPECT_EQ(again[0].failed.size(), 1u);
  store_.transition(job.id, failed, "not resumed");
  EXPECT_TRUE(store_.recover_after_restart().empty());
  EXPECT_EQ(store_.get(idle.id)->state, queued);
  EXPECT_EQ(store_.get(over.id)->state, done);
}

TEST_F(SqliteJobStoreTest, Reopen_SeesEverything_AndKeepsSchemaVersion) {
  auto job = job_in(recording);
  store_.upsert_segment({.job_id = job.id, .index = 1});
  SqliteJobStore reopened({dir_.file("jobs.db")});
  EXPECT_EQ(reopened.schema_version(), 1);
  EXPECT_EQ(reopened.get(job.id)->state, recording);
  EXPECT_EQ(reopened.segments(job.id).size(), 1u);
}

}  // namespace
}  // namespace vncgate::jobs
