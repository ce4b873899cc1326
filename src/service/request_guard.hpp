// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "service/http_server.hpp"

namespace vncgate::service {

// The checks every request passes before routing (docs/security.md):
// - Host must name this server (DNS rebinding: a page whose name resolves to us sends its own name): the
//   bind address, loopback names on a loopback bind, public_url's host, server.allowed_hosts; else 421.
// - Without API keys, requests through a proxy (Forwarded, X-Forwarded-*, Via) are refused: no-key mode is for
//   a local demo, and a proxy would expose it to everyone who reaches the proxy.
// - State-changing requests and WebSocket upgrades from another site are refused (CSRF): a foreign Origin
//   (allowed origins come from the configuration, never from the request) or Sec-Fetch-Site: cross-site; a
//   request body must be declared application/json (a text/plain form post needs no CORS preflight).
class RequestGuard {
 public:
  // Throws ConfigError when the options leave the Host unknowable (a wildcard bind without names).
  explicit RequestGuard(const ServerOptions& options);
  // The listening port is known only once bound (port 0 in tests): the derived origins carry it.
  void set_port(std::uint16_t port);
  // The refusal, or nullopt when the request may go on.
  std::optional<HttpResponse> check(const HttpRequest& request, bool upgrade) const;
  // The origins a browser page may have to use the API and open consoles.
  const std::vector<std::string>& origins() const { return origins_; }

  // "Name:8090" → "name", "[::1]:80" → "[::1]" (lower case, no trailing dot); "" when malformed.
  static std::string host_name(const std::string& host_header);

 private:
  std::vector<std::string> hosts_;  // lower case; IPv6 in brackets, as in a Host header
  std::vector<std::string> configured_origins_;
  std::string public_url_;
  bool keys_ = false;
  std::vector<std::string> origins_;
};

}  // namespace vncgate::service
