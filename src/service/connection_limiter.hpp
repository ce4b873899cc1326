// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace vncgate::service {

// Caps open HTTP connections, in all and per client address, so that one client (or many) cannot take every
// descriptor of the process (docs/security.md). Thread-safe: slots are taken on the accept strand and given
// back wherever a connection ends.
class ConnectionLimiter {
 public:
  ConnectionLimiter(std::size_t total, std::size_t per_client);
  // A slot for a connection from `client`, or nullptr when a cap is reached; the slot is given back when the
  // last copy of the pointer goes. Slots share the counts with the limiter, so either may go first (a
  // connection's coroutine frame can outlive the server that accepted it).
  std::shared_ptr<void> acquire(const std::string& client);
  std::size_t open() const;

 private:
  struct Counts {
    std::mutex mutex;
    std::size_t open = 0;
    std::map<std::string, std::size_t> per_address;
    void release(const std::string& client);
  };
  std::size_t total_, per_client_;
  std::shared_ptr<Counts> counts_;
};

}  // namespace vncgate::service
