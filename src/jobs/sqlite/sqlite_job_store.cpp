// SPDX-License-Identifier: Apache-2.0
#include "jobs/sqlite/sqlite_job_store.hpp"

#include "jobs/sqlite/database.hpp"
#include "jobs/sqlite/migrations.hpp"
#include "jobs/sqlite/sqlite_rows.hpp"

namespace vncgate::jobs {

SqliteJobStore::SqliteJobStore(const SqliteOptions& options)
    : db_(std::make_unique<sqlite::Database>(options.path, options.busy_timeout_ms)) {
  sqlite::migrate(*db_);
  schema_version_ = sqlite::latest_schema_version();
  statements_ = std::make_unique<sqlite::Statements>(*db_);
}

// Statements are finalised before the connection closes.
SqliteJobStore::~SqliteJobStore() { statements_.reset(); }

void SqliteJobStore::run_transaction(Access access, const std::function<void(JobRows&)>& work) {
  bool announced = false;
  {
    std::lock_guard lock(mutex_);
    sqlite::Transaction transaction(
        *db_, access == Access::write ? sqlite::Transaction::Mode::write : sqlite::Transaction::Mode::read);
    sqlite::SqliteRows rows(*db_, *statements_);
    work(rows);
    transaction.commit();
    announced = rows.announced();
  }
  if (announced) signal().notify();
}

}  // namespace vncgate::jobs
