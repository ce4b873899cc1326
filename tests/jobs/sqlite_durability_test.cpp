// SPDX-License-Identifier: Apache-2.0
// The SQLite store under stress: a writer process killed with SIGKILL, files that are not (or no longer) a job
// database. Many threads on two connections: the contract tests (job_store_contract.cpp).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <set>
#include <sstream>

#include "jobs/sample_jobs.hpp"
#include "jobs/sqlite/database.hpp"
#include "jobs/sqlite/sqlite_job_store.hpp"
#include "support/process.hpp"

namespace vncgate::jobs {
namespace {

using test::sample_job;
using test::sample_result;

const Worker kCrashWorker{"crash-worker", std::chrono::seconds(60)};

// The child's log of what it has committed, one line per step: "<step> <job id>".
std::map<std::string, std::string> read_committed_steps(FILE* pipe, int complete_jobs_wanted) {
  std::map<std::string, std::string> last_step;  // job id → last step reported
  int complete = 0;
  char line[256];
  while (complete < complete_jobs_wanted && std::fgets(line, sizeof line, pipe)) {
    std::istringstream words(line);
    std::string step, id;
    words >> step >> id;
    last_step[id] = step;
    if (step == "segment3-recording") ++complete;
  }
  return last_step;
}

// Runs in the forked child: a worker that records jobs until it is killed. Reports each step after its commit.
[[noreturn]] void write_jobs_until_killed(const std::string& path, int report_fd) {
  try {
    SqliteJobStore store({path});
    auto report = [&](const char* step, const std::string& id) {
      auto line = std::string(step) + " " + id + "\n";
      if (::write(report_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) ::_exit(3);
    };
    for (;;) {
      auto job = store.create(sample_job("crash", 5));
      report("created", job.id);
      const auto fence = store.claim(kCrashWorker)->lease.fence;
      store.transition(fence, JobState::recording);
      report("recording", job.id);
      for (int index = 1; index <= 2; ++index) {
        store.upsert_segment(fence, {.index = index, .state = SegmentState::recording});
        store.finish_segment(fence, index, sample_result(index));
        report(index == 1 ? "segment1-finished" : "segment2-finished", job.id);
      }
      store.mark_uploaded(fence, 1, "crash/segment-1.mp4");
      report("segment1-uploaded", job.id);
      store.upsert_segment(fence, {.index = 3, .state = SegmentState::recording});
      report("segment3-recording", job.id);
    }
  } catch (...) {
    ::_exit(2);
  }
}

TEST(SqliteJobStoreDurability, WriterKilledMidway_EveryCommittedStepSurvives_AndRecoveryReportsIt) {
  vncgate::test::TempDir dir("vncgate-jobs");
  const auto path = dir.file("jobs.db");
  { SqliteJobStore create_schema({path}); }  // the child then only writes jobs
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(fds[0]);
    write_jobs_until_killed(path, fds[1]);
  }
  ::close(fds[1]);
  FILE* pipe = ::fdopen(fds[0], "r");
  auto steps = read_committed_steps(pipe, 8);
  ::kill(child, SIGKILL);  // wherever it is: mid-transaction, mid-fsync or between steps
  int status = 0;
  ::waitpid(child, &status, 0);
  // Whatever the child committed after our last read still counts; drain it.
  for (const auto& [id, step] : read_committed_steps(pipe, 1 << 30)) steps[id] = step;
  std::fclose(pipe);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child ended early, status " << status;
  ASSERT_GE(steps.size(), 8u);

  SqliteJobStore reopened({path});
  std::map<std::string, ClaimedJob> recovered;
  for (auto& entry : reopened.recover_after_restart(kCrashWorker)) recovered[entry.job.id] = std::move(entry);
  int complete = 0;
  for (const auto& [id, step] : steps) {
    SCOPED_TRACE(id + " after " + step);
    auto job = reopened.get(id);
    ASSERT_TRUE(job) << "a committed job was lost";
    if (step == "created") continue;  // it may or may not have reached connecting
    ASSERT_TRUE(recovered.contains(id)) << "a running job was not reported";
    const auto& entry = recovered[id];
    std::set<int> uploaded, to_upload, listed;
    for (const auto& segment : entry.uploaded) uploaded.insert(segment.index);
    for (const auto& segment : entry.to_upload) to_upload.insert(segment.index);
    for (const auto* list : {&entry.uploaded, &entry.to_upload, &entry.failed}) {
      for (const auto& segment : *list) EXPECT_TRUE(listed.insert(segment.index).second) << "listed twice";
    }
    if (step == "segment3-recording") {
      ++complete;
      EXPECT_EQ(uploaded, std::set<int>{1});
      EXPECT_EQ(to_upload, std::set<int>{2});
      ASSERT_EQ(entry.failed.size(), 1u);
      EXPECT_EQ(entry.failed[0].index, 3);
      EXPECT_EQ(entry.next_index, 4);
      EXPECT_EQ(entry.remaining, 3);
    }
    if (step == "segment1-finished") {
      EXPECT_TRUE(uploaded.contains(1) || to_upload.contains(1));
    }
    if (step == "segment2-finished") {
      EXPECT_TRUE(to_upload.contains(2));
    }
    if (step == "segment1-uploaded") {
      EXPECT_TRUE(uploaded.contains(1));
    }
  }
  EXPECT_GE(complete, 7);
}

TEST(SqliteJobStoreFiles, NotADatabase_ThrowsStorageErrorNamingTheFile) {
  vncgate::test::TempDir dir("vncgate-jobs");
  const auto path = dir.file("jobs.db");
  std::string text;
  for (int i = 0; i < 200; ++i) text += "this is a config file, not a job database\n";
  vncgate::test::write_file(path, text);
  try {
    SqliteJobStore store({path});
    FAIL() << "opened a text file as a job database";
  } catch (const StorageError& error) {
    EXPECT_EQ(error.category(), ErrorCategory::storage);
    EXPECT_NE(std::string(error.what()).find(path), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("not a database"), std::string::npos) << error.what();
  }
}

TEST(SqliteJobStoreFiles, DamagedPages_ThrowStorageError) {
  vncgate::test::TempDir dir("vncgate-jobs");
  const auto path = dir.file("jobs.db");
  {
    SqliteJobStore store({path});
    for (int i = 0; i < 200; ++i) store.create(sample_job());
    sqlite::Database(path, 1000).exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }
  auto bytes = vncgate::test::read_file(path);
  ASSERT_GT(bytes.size(), 8192u);
  // Keep the 100-byte header (so it still looks like SQLite) and overwrite the schema and table pages.
  for (std::size_t i = 100; i < bytes.size(); ++i) bytes[i] = static_cast<char>(0xA5 ^ (i * 31));
  vncgate::test::write_file(path, bytes);
  EXPECT_THROW(
      {
        SqliteJobStore store({path});
        store.list({});
      },
      StorageError);
}

TEST(SqliteJobStoreFiles, SchemaFromANewerVersion_IsRefused) {
  vncgate::test::TempDir dir("vncgate-jobs");
  const auto path = dir.file("jobs.db");
  { SqliteJobStore store({path}); }
  sqlite::Database(path, 1000)
      .exec("INSERT INTO schema_migrations (version, name, applied_unix_ms) VALUES (99, 'future', 0)");
  try {
    SqliteJobStore store({path});
    FAIL() << "opened a database from the future";
  } catch (const StorageError& error) {
    EXPECT_NE(std::string(error.what()).find("schema version 99"), std::string::npos) << error.what();
  }
}

TEST(SqliteJobStoreFiles, MissingDirectory_ThrowsStorageError) {
  EXPECT_THROW(SqliteJobStore({"/nonexistent-vncgate-dir/jobs.db"}), StorageError);
}

}  // namespace
}  // namespace vncgate::jobs
