// SPDX-License-Identifier: Apache-2.0
#include "jobs/open_job_store.hpp"

#include <filesystem>

#include "config/service_config.hpp"
#include "jobs/postgres/postgres_job_store.hpp"
#include "jobs/sqlite/sqlite_job_store.hpp"

namespace vncgate::jobs {

std::unique_ptr<JobStore> open_job_store(const std::string& database) {
  if (is_postgres_url(database)) return std::make_unique<PostgresJobStore>(PostgresOptions{.url = database});
  if (const auto dir = std::filesystem::path(database).parent_path(); !dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec)
      throw StorageError("job database " + database + ": cannot create " + dir.string() + " (" + ec.message() + ")");
  }
  return std::make_unique<SqliteJobStore>(SqliteOptions{database});
}

std::string job_store_label(const std::string& database) {
  return is_postgres_url(database) ? config::mask_url(database) : database;
}

}  // namespace vncgate::jobs
