// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <optional>
#include <string>

#include "io/endpoint.hpp"
#include "providers/target.hpp"

namespace vncgate::providers {

namespace asio = boost::asio;

// What a provider hands back for one console session: where to connect and how to log in to RFB.
struct ConsoleEndpoint {
  io::Endpoint endpoint;
  std::string password;  // VNC Authentication password ("" = none offered); a secret, never logged
  // When the endpoint stops being usable (console tokens are short-lived); nullopt = no known limit.
  std::optional<std::chrono::system_clock::time_point> expires_at;
};

// Turns a target into a console endpoint. Console endpoints are single-use or short-lived, so callers acquire
// right before connecting and again on every reconnect. Failures throw ProviderError (the API refused, naming
// the target and the step), AuthError (credentials rejected), ConfigError (missing settings) or IoError.
// One acquire at a time per provider object; implementations may cache credentials between calls.
class Provider {
 public:
  virtual ~Provider() = default;
  virtual asio::awaitable<ConsoleEndpoint> acquire(const Target& target) = 0;
};

}  // namespace vncgate::providers
