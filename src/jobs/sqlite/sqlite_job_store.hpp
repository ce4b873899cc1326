// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "jobs/rows_job_store.hpp"

namespace vncgate::jobs {

namespace sqlite {
class Database;
struct Statements;
}  // namespace sqlite

struct SqliteOptions {
  std::string path;            // the database file; created with its schema when missing
  int busy_timeout_ms = 5000;  // how long to wait for another process's write lock before StorageError
};

// JobStore on one SQLite file (WAL). One connection, one mutex: every method takes the mutex for its whole
// transaction. Job writes are a few per second per job, far below what one connection commits, and a
// single connection gives read-your-writes across threads without reasoning about snapshots. Other
// processes may open the same file (WAL + busy timeout); claims and fenced writes stay exclusive across them
// because write transactions are BEGIN IMMEDIATE. Wake-ups (wait_for_work) reach the waiters of this object
// only: other processes on the same file notice new work by their timeout.
// The constructor opens the file, checks it is SQLite and applies migrations; throws StorageError with the
// path and SQLite's reason (e.g. "file is not a database") when it cannot.
class SqliteJobStore final : public RowsJobStore {
 public:
  explicit SqliteJobStore(const SqliteOptions& options);
  ~SqliteJobStore() override;

  // The schema version of the open file (schema_migrations), for diagnostics.
  int schema_version() const { return schema_version_; }

 protected:
  void run_transaction(Access access, const std::function<void(JobRows&)>& work) override;

 private:
  std::mutex mutex_;
  std::unique_ptr<sqlite::Database> db_;
  std::unique_ptr<sqlite::Statements> statements_;
  int schema_version_ = 0;
};

}  // namespace vncgate::jobs
