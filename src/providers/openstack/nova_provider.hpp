// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <optional>
#include <string>

#include "providers/openstack/keystone.hpp"
#include "providers/provider.hpp"

namespace vncgate::providers::openstack {

// Where noVNC would connect for a Nova console URL.
struct ConsoleWebSocket {
  std::string url;     // ws(s)://proxy:port/<path>?token=… (a secret)
  std::string origin;  // http(s)://proxy:port — nova-novncproxy rejects upgrades whose Origin is another host
};

// Nova console URLs come in two shapes: current Nova nests the WebSocket path in a query parameter
// (".../vnc_lite.html?path=%3Ftoken%3DTOKEN"), older Nova passes the token directly ("vnc_auto.html?token=T").
// nullopt (reason in `error`) when the URL is neither.
std::optional<ConsoleWebSocket> console_websocket(const std::string& console_url, std::string* error = nullptr);

struct NovaSettings {
  KeystoneSettings keystone;
  io::TlsOptions console_tls;  // for wss:// to novncproxy (usually the same CA as the API)
  std::chrono::milliseconds connect_timeout{10000};
};

// openstack:SERVER_ID → Nova remote console (microversion 2.6; the os-getVNCConsole action on clouds that do not
// have it) → WebSocket endpoint of nova-novncproxy (RFB behind it has no VNC password).
class NovaProvider final : public Provider {
 public:
  explicit NovaProvider(NovaSettings settings);
  asio::awaitable<ConsoleEndpoint> acquire(const Target& target) override;

  KeystoneSession& session() { return session_; }

 private:
  // POSTs `body` to compute `path` with the cached token; on 401 re-authenticates once.
  asio::awaitable<http::Response> post(const std::string& path, const nlohmann::json& body, bool microversion);

  NovaSettings settings_;
  KeystoneSession session_;
};

}  // namespace vncgate::providers::openstack
