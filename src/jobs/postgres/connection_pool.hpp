// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "jobs/postgres/connection.hpp"

namespace vncgate::jobs::postgres {

class ConnectionPool;

// A connection borrowed from the pool; goes back to it when destroyed, unless discard() was called (the
// connection failed: the next borrower gets a new one).
class Borrowed {
 public:
  Borrowed(ConnectionPool& pool, std::unique_ptr<Connection> connection)
      : pool_(&pool), connection_(std::move(connection)) {}
  ~Borrowed();
  Borrowed(Borrowed&& other) noexcept
      : pool_(std::exchange(other.pool_, nullptr)), connection_(std::move(other.connection_)) {}
  Borrowed(const Borrowed&) = delete;
  Borrowed& operator=(const Borrowed&) = delete;
  Borrowed& operator=(Borrowed&&) = delete;

  Connection& operator*() { return *connection_; }
  Connection* operator->() { return connection_.get(); }
  void discard() { connection_.reset(); }

 private:
  ConnectionPool* pool_;
  std::unique_ptr<Connection> connection_;
};

// Up to `size` connections, opened when first needed and reused. A borrower waits for a free one up to
// `acquire_timeout`, then gets a StorageError (the service answers 503 rather than queueing without end).
class ConnectionPool {
 public:
  ConnectionPool(ConnectionSettings settings, int size, std::chrono::milliseconds acquire_timeout);

  // Throws PgError when a new connection cannot be opened, StorageError when none is free in time.
  Borrowed acquire();
  // Closes the idle connections: after one failed, the others (same server) are most likely dead too.
  void discard_idle();
  const ConnectionSettings& settings() const { return settings_; }

 private:
  friend class Borrowed;
  void give_back(std::unique_ptr<Connection> connection);

  ConnectionSettings settings_;
  int size_;
  std::chrono::milliseconds acquire_timeout_;
  std::mutex mutex_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<Connection>> idle_;
  int open_ = 0;  // idle + borrowed
};

}  // namespace vncgate::jobs::postgres
