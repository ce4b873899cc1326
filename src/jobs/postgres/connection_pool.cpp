// SPDX-License-Identifier: Apache-2.0
#include "jobs/postgres/connection_pool.hpp"

namespace vncgate::jobs::postgres {

Borrowed::~Borrowed() {
  if (pool_) pool_->give_back(std::move(connection_));
}

ConnectionPool::ConnectionPool(ConnectionSettings settings, int size, std::chrono::milliseconds acquire_timeout)
    : settings_(std::move(settings)), size_(std::max(1, size)), acquire_timeout_(acquire_timeout) {}

Borrowed ConnectionPool::acquire() {
  {
    std::unique_lock lock(mutex_);
    if (!freed_.wait_for(lock, acquire_timeout_, [&] { return !idle_.empty() || open_ < size_; })) {
      throw StorageError("job database " + settings_.label + ": all " + std::to_string(size_) +
                         " connections busy for " + std::to_string(acquire_timeout_.count()) + " ms");
    }
    if (!idle_.empty()) {
      auto connection = std::move(idle_.back());
      idle_.pop_back();
      return Borrowed(*this, std::move(connection));
    }
    ++open_;
  }
  try {  // connecting takes a round trip or more: not under the lock
    return Borrowed(*this, std::make_unique<Connection>(settings_));
  } catch (...) {
    give_back(nullptr);
    throw;
  }
}

void ConnectionPool::give_back(std::unique_ptr<Connection> connection) {
  {
    std::lock_guard lock(mutex_);
    if (connection && connection->ok())
      idle_.push_back(std::move(connection));
    else
      --open_;
  }
  freed_.notify_one();
}

void ConnectionPool::discard_idle() {
  std::vector<std::unique_ptr<Connection>> closing;
  {
    std::lock_guard lock(mutex_);
    closing.swap(idle_);
    open_ -= static_cast<int>(closing.size());
  }
  freed_.notify_all();
}

}  // namespace vncgate::jobs::postgres
