// SPDX-License-Identifier: Apache-2.0
// The JobStore contract on a real PostgreSQL (Debian's postgresql, started here on a free loopback port), and
// what only the PostgreSQL store has: wake-ups across processes (LISTEN/NOTIFY), claims that skip locked rows,
// surviving a server restart, migrations shared by processes starting together, credentials kept out of
// messages.
#include "jobs/postgres/postgres_job_store.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>

#include "jobs/job_store_contract.hpp"
#include "jobs/open_job_store.hpp"
#include "jobs/postgres/connection.hpp"
#include "jobs/postgres/migrations.hpp"
#include "jobs/sample_jobs.hpp"
#include "support/postgres.hpp"

namespace vncgate::jobs {
namespace {

using test::JobStoreContract;
using namespace std::chrono_literals;
using test::sample_job;

// One server for the whole binary, started from the main thread (children die with the thread that spawned
// them) before the first test and stopped after the last.
class PostgresEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { server_ = std::make_unique<vncgate::test::PostgresServer>(); }
  void TearDown() override { server_.reset(); }
  static vncgate::test::PostgresServer& server() { return *server_; }

 private:
  static inline std::unique_ptr<vncgate::test::PostgresServer> server_;
};

[[maybe_unused]] auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new PostgresEnvironment);

vncgate::test::PostgresServer& server() { return PostgresEnvironment::server(); }

// A new database per test; every open() is another store (pool and listener of its own) on it.
class PostgresSite : public test::StoreSite {
 public:
  std::unique_ptr<JobStore> open() override { return std::make_unique<PostgresJobStore>(PostgresOptions{url_}); }
  const std::string& url() const { return url_; }

 private:
  std::string url_ = server().create_database();
};

INSTANTIATE_TEST_SUITE_P(Postgres, JobStoreContract,
                         ::testing::Values(test::JobStoreBackend{
                             "Postgres", [] { return std::make_unique<PostgresSite>(); }, true}),
                         test::backend_name);

std::string database_of(const std::string& url) { return url.substr(url.rfind('/') + 1); }

TEST(PostgresJobStore, ClaimSkipsRowsAnotherTransactionHolds) {
  PostgresSite site;
  auto store = site.open();
  auto first = store->create(sample_job());
  auto second = store->create(sample_job());
  postgres::Connection locker({.url = site.url(), .label = "locker"});
  locker.exec("BEGIN");
  locker.run("lock", "SELECT id FROM jobs WHERE id = $1 FOR UPDATE", {first.id});
  const auto start = std::chrono::steady_clock::now();
  auto claimed = store->claim({"worker-a", 60s});
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s) << "a claim must not wait for a locked row";
  ASSERT_TRUE(claimed);
  EXPECT_EQ(claimed->job.id, second.id);
  EXPECT_FALSE(store->claim({"worker-a", 60s}));
  locker.exec("ROLLBACK");
  EXPECT_EQ(store->claim({"worker-a", 60s})->job.id, first.id);
}

TEST(PostgresJobStore, EncoderOptionsAreJsonb_AndTimesComeFromTheServer) {
  PostgresSite site;
  auto store = site.open();
  auto job = store->create(sample_job());
  EXPECT_EQ(server().psql("SELECT jsonb_typeof(encoder_options) || ' ' || (encoder_options->>'width') FROM jobs",
                          database_of(site.url())),
            "object 1024");
  const auto server_ms =
      std::stoll(server().psql("SELECT (extract(epoch FROM now()) * 1000)::bigint", database_of(site.url())));
  EXPECT_LE(job.created_unix_ms, server_ms);
  EXPECT_GT(job.created_unix_ms, server_ms - 60000);
}

TEST(PostgresJobStore, ServerRestart_CallsFailCleanlyWhileDown_ThenReconnect_AndWakeUpsResume) {
  PostgresSite site;
  auto store = site.open();
  auto other = site.open();
  auto before = store->create(sample_job());

  server().stop();
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(store->create(sample_job()), StorageError);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  server().start();

  // The pooled connections died with the server: the next call reconnects on its own.
  auto after = store->create(sample_job());
  EXPECT_EQ(store->get(before.id)->id, before.id);
  EXPECT_EQ(other->get(after.id)->id, after.id);
  // The listener reconnects with backoff; once it is back, a job created elsewhere wakes this store.
  bool woke = false;
  for (int i = 0; i < 40 && !woke; ++i) {
    const auto mark = store->work_mark();
    other->create(sample_job());
    woke = store->wait_for_work(mark, 500ms);
  }
  EXPECT_TRUE(woke) << "no wake-up after the server came back";
}

TEST(PostgresJobStore, StoresStartingTogether_MigrateOnce) {
  const auto url = server().create_database();
  std::vector<std::thread> threads;
  std::atomic<int> opened{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      PostgresJobStore store({url});
      store.count_by_state();
      ++opened;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(opened.load(), 4);
  EXPECT_EQ(
      server().psql("SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_migrations", database_of(url)),
      "1,2,3,4,5");  // each migration once
  EXPECT_EQ(PostgresJobStore({url}).schema_version(), postgres::latest_schema_version());
}

TEST(PostgresJobStore, SchemaFromANewerVersion_IsRefused) {
  PostgresSite site;
  site.open();
  server().psql("INSERT INTO schema_migrations (version, name, applied_unix_ms) VALUES (99, 'future', 0)",
                database_of(site.url()));
  try {
    site.open();
    FAIL() << "opened a database from the future";
  } catch (const StorageError& error) {
    EXPECT_NE(std::string(error.what()).find("schema version 99"), std::string::npos) << error.what();
  }
}

TEST(PostgresJobStore, Unreachable_ThrowsStorageError_WithoutThePassword) {
  const auto port = vncgate::test::free_port();
  const auto url = "postgresql://vncgate:hunter2@127.0.0.1:" + std::to_string(port) + "/jobs";
  try {
    PostgresJobStore store({.url = url, .connect_timeout_s = 2, .attempts = 1});
    FAIL() << "connected to a closed port";
  } catch (const StorageError& error) {
    const std::string what = error.what();
    EXPECT_EQ(what.find("hunter2"), std::string::npos) << what;
    EXPECT_NE(what.find("cannot connect"), std::string::npos) << what;
    EXPECT_NE(what.find(std::to_string(port)), std::string::npos) << what;
  }
  // A database that does not exist on a live server.
  try {
    PostgresJobStore store({.url = server().url("no_such_db"), .attempts = 1});
    FAIL() << "opened a missing database";
  } catch (const StorageError& error) {
    EXPECT_NE(std::string(error.what()).find("no_such_db"), std::string::npos) << error.what();
  }
}

TEST(PostgresJobStore, OpenJobStore_PicksPostgresForAUrl_AndSqliteForAPath) {
  PostgresSite site;
  auto store = open_job_store(site.url());
  EXPECT_NE(dynamic_cast<PostgresJobStore*>(store.get()), nullptr);
  EXPECT_EQ(job_store_label("postgresql://u:secret@h/db").find("secret"), std::string::npos);
}

}  // namespace
}  // namespace vncgate::jobs
