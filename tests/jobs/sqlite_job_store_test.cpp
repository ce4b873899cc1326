// SPDX-License-Identifier: Apache-2.0
// The JobStore contract on SQLite, and what only the SQLite store has (one file, a schema version per file).
#include "jobs/sqlite/sqlite_job_store.hpp"

#include <gtest/gtest.h>

#include "jobs/job_store_contract.hpp"
#include "jobs/sqlite/database.hpp"
#include "jobs/sqlite/migrations.hpp"
#include "support/process.hpp"

namespace vncgate::jobs {
namespace {

using test::JobStoreContract;
// One file in a temp dir; every open() is another connection to it.
class SqliteSite : public test::StoreSite {
 public:
  std::unique_ptr<JobStore> open() override { return std::make_unique<SqliteJobStore>(SqliteOptions{path_}); }

 private:
  vncgate::test::TempDir dir_{"vncgate-jobs"};
  std::string path_ = dir_.file("jobs.db");
};

INSTANTIATE_TEST_SUITE_P(Sqlite, JobStoreContract,
                         ::testing::Values(test::JobStoreBackend{"Sqlite",
                                                                 [] { return std::make_unique<SqliteSite>(); }, false}),
                         test::backend_name);

TEST(SqliteJobStore, Reopen_KeepsTheLatestSchemaVersion) {
  vncgate::test::TempDir dir("vncgate-jobs");
  { SqliteJobStore store({dir.file("jobs.db")}); }
  SqliteJobStore reopened({dir.file("jobs.db")});
  EXPECT_EQ(reopened.schema_version(), sqlite::latest_schema_version());
  EXPECT_EQ(sqlite::latest_schema_version(), 4);
}

TEST(SqliteJobStore, UpgradeFromVersion1_KeepsJobs_WhichStartUnowned) {
  vncgate::test::TempDir dir("vncgate-jobs");
  const auto path = dir.file("jobs.db");
  {
    sqlite::Database db(path, 1000);
    sqlite::migrate(db, 1);
    db.exec(
        "INSERT INTO jobs (id, bucket_id, server, target, provider, duration_s, count, encoder_options, state, "
        "created_unix_ms, updated_unix_ms) VALUES ('j1', 'b', 'vm', 'vnc://h:1', 'direct', 60, 2, '{}', "
        "'recording', 1, 1)");
  }
  SqliteJobStore store({path});
  auto job = store.get("j1");
  ASSERT_TRUE(job);
  EXPECT_EQ(job->state, JobState::recording);
  EXPECT_EQ(job->owner, "");
  EXPECT_EQ(job->fence_token, 0);
  EXPECT_EQ(job->client, "") << "jobs from before per-key quotas belong to no key";
  // A job left running by a version without leases has no owner: any worker's claim takes it over.
  auto taken = store.claim({"worker-a", std::chrono::seconds(60)});
  ASSERT_TRUE(taken);
  EXPECT_EQ(taken->job.id, "j1");
  EXPECT_TRUE(taken->taken_over);
}

}  // namespace
}  // namespace vncgate::jobs
