// SPDX-License-Identifier: Apache-2.0
#include "service/connection_limiter.hpp"

namespace vncgate::service {

ConnectionLimiter::ConnectionLimiter(std::size_t total, std::size_t per_client)
    : total_(total), per_client_(per_client), counts_(std::make_shared<Counts>()) {}

std::shared_ptr<void> ConnectionLimiter::acquire(const std::string& client) {
  {
    std::lock_guard lock(counts_->mutex);
    auto& mine = counts_->per_address[client];
    if (counts_->open >= total_ || mine >= per_client_) {
      if (mine == 0) counts_->per_address.erase(client);
      return nullptr;
    }
    ++counts_->open;
    ++mine;
  }
  // A shared_ptr<void> with a releasing deleter: copies travel with the connection (also into an upgrade).
  return std::shared_ptr<void>(counts_.get(), [counts = counts_, client](Counts*) { counts->release(client); });
}

void ConnectionLimiter::Counts::release(const std::string& client) {
  std::lock_guard lock(mutex);
  --open;
  if (auto it = per_address.find(client); it != per_address.end() && --it->second == 0) per_address.erase(it);
}

std::size_t ConnectionLimiter::open() const {
  std::lock_guard lock(counts_->mutex);
  return counts_->open;
}

}  // namespace vncgate::service
