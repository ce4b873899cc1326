// SPDX-License-Identifier: Apache-2.0
#include "service/connection_limiter.hpp"

namespace vncgate::service {

std::shared_ptr<void> ConnectionLimiter::acquire(const std::string& client) {
  {
    std::lock_guard lock(mutex_);
    auto& mine = per_address_[client];
    if (open_ >= total_ || mine >= per_client_) {
      if (mine == 0) per_address_.erase(client);
      return nullptr;
    }
    ++open_;
    ++mine;
  }
  // A shared_ptr<void> with a releasing deleter: copies travel with the connection (also into an upgrade).
  return std::shared_ptr<void>(this, [client](ConnectionLimiter* self) { self->release(client); });
}

void ConnectionLimiter::release(const std::string& client) {
  std::lock_guard lock(mutex_);
  --open_;
  if (auto it = per_address_.find(client); it != per_address_.end() && --it->second == 0) per_address_.erase(it);
}

std::size_t ConnectionLimiter::open() const {
  std::lock_guard lock(mutex_);
  return open_;
}

}  // namespace vncgate::service
