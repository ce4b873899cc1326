// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "jobs/rows_job_store.hpp"

namespace vncgate::jobs {

namespace postgres {
class ConnectionPool;
class Listener;
}  // namespace postgres

struct PostgresOptions {
  // postgresql://user[:password]@host[:port]/database[?libpq parameters] (or postgres://). The password may
  // instead come from PGPASSWORD or a password file (PGPASSFILE, ~/.pgpass); it never appears in messages.
  std::string url;
  int pool_size = 8;                                 // connections for the store's calls (the listener has its own)
  std::chrono::milliseconds acquire_timeout{10000};  // waiting for a free connection, then StorageError
  int connect_timeout_s = 5;
  std::chrono::milliseconds lock_timeout{10000};  // waiting for a job's row lock, then StorageError
  int attempts = 4;  // tries per call when the connection dropped or the transaction was a deadlock victim
};

// JobStore on PostgreSQL, for any number of vncgate processes sharing one database. Same schema and rules as
// SqliteJobStore (encoder_options as JSONB); every method is one transaction on a pooled connection, retried
// on a fresh connection when the old one turns out dead (a server restart) or on a serialization failure or
// deadlock, as long as nothing was committed. Claims use FOR UPDATE SKIP LOCKED; writes lock the job row
// first. Waiters wake through LISTEN/NOTIFY on a dedicated connection (postgres::Listener).
// The constructor connects and applies migrations; throws StorageError (with the URL's credentials masked)
// when it cannot.
class PostgresJobStore final : public RowsJobStore {
 public:
  explicit PostgresJobStore(const PostgresOptions& options);
  ~PostgresJobStore() override;

  // The URL with its credentials masked, for messages and logs.
  const std::string& label() const;
  int schema_version() const { return schema_version_; }

 protected:
  void run_transaction(Access access, const std::function<void(JobRows&)>& work) override;

 private:
  std::unique_ptr<postgres::ConnectionPool> pool_;
  std::unique_ptr<postgres::Listener> listener_;
  int attempts_;
  int schema_version_ = 0;
};

// True for postgresql:// and postgres:// URLs.
bool is_postgres_url(const std::string& url);

}  // namespace vncgate::jobs
