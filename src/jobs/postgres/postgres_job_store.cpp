// SPDX-License-Identifier: Apache-2.0
#include "jobs/postgres/postgres_job_store.hpp"

#include <thread>

#include "config/service_config.hpp"
#include "jobs/postgres/connection_pool.hpp"
#include "jobs/postgres/listener.hpp"
#include "jobs/postgres/migrations.hpp"
#include "jobs/postgres/postgres_rows.hpp"
#include "util/log.hpp"

namespace vncgate::jobs {

using postgres::PgError;

namespace {

// The transaction's clock comes back with BEGIN: one round trip for both.
constexpr const char* kBeginWrite = "BEGIN; SELECT (extract(epoch FROM now()) * 1000)::bigint";
constexpr const char* kBeginRead =
    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT (extract(epoch FROM now()) * 1000)::bigint";

void rollback_or_discard(postgres::Borrowed& connection) {
  try {
    if (connection->ok()) {
      connection->exec("ROLLBACK");
      return;
    }
  } catch (const StorageError&) {
  }
  connection.discard();
}

}  // namespace

bool is_postgres_url(const std::string& url) {
  return url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0;
}

PostgresJobStore::PostgresJobStore(const PostgresOptions& options) : attempts_(std::max(1, options.attempts)) {
  postgres::ConnectionSettings settings;
  settings.url = options.url;
  settings.label = config::mask_url(options.url);
  settings.connect_timeout_s = options.connect_timeout_s;
  settings.lock_timeout = options.lock_timeout;
  if (!is_postgres_url(options.url))
    throw UsageError("job database " + settings.label + ": expected a postgresql:// URL");
  pool_ = std::make_unique<postgres::ConnectionPool>(settings, options.pool_size, options.acquire_timeout);
  {
    auto connection = pool_->acquire();
    postgres::migrate(*connection);
  }
  schema_version_ = postgres::latest_schema_version();
  listener_ = std::make_unique<postgres::Listener>(settings, postgres::kWorkChannel, signal());
  // The store is ready when wake-ups are: a worker's first wait then misses nothing. Not fatal when slow (the
  // listener keeps trying; waits time out meanwhile).
  if (!listener_->wait_listening(std::chrono::seconds(options.connect_timeout_s)))
    spdlog::warn("job database {}: not listening for new jobs yet", settings.label);
}

PostgresJobStore::~PostgresJobStore() = default;

const std::string& PostgresJobStore::label() const { return pool_->settings().label; }

void PostgresJobStore::run_transaction(Access access, const std::function<void(JobRows&)>& work) {
  const bool write = access == Access::write;
  for (int attempt = 1;; ++attempt) {
    bool committing = false;
    try {
      auto connection = pool_->acquire();
      try {
        auto begun = connection->exec(write ? kBeginWrite : kBeginRead);
        postgres::PostgresRows rows(*connection, write, begun.integer(0, 0));
        work(rows);
        committing = true;
        connection->exec("COMMIT");
        return;
      } catch (const PgError& e) {
        if (e.connection_lost()) {
          connection.discard();
          pool_->discard_idle();  // the same server: the other idle connections are likely dead as well
        } else {
          rollback_or_discard(connection);
        }
        throw;
      } catch (...) {  // the rules refused (InvalidTransition, FencedOut, UsageError): nothing to retry
        rollback_or_discard(connection);
        throw;
      }
    } catch (const PgError& e) {
      if (committing && e.connection_lost()) {
        throw StorageError(std::string(e.what()) +
                           " (the connection dropped during COMMIT: the change may or may not have been saved)");
      }
      if (!(e.connection_lost() || e.transient()) || attempt >= attempts_) throw;
      spdlog::debug("job database: attempt {} failed, trying again: {}", attempt, e.what());
      std::this_thread::sleep_for(std::chrono::milliseconds(50) * attempt * attempt);
    }
  }
}

}  // namespace vncgate::jobs
