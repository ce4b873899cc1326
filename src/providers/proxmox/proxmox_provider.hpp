// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <optional>
#include <string>

#include "providers/api_error.hpp"
#include "providers/provider.hpp"

namespace vncgate::providers::proxmox {

// How to reach and log in to a Proxmox VE API: an API token (preferred: no password, revocable, privileges
// limited to VM.Console / Sys.Console) or a user and password (ticket login).
struct ProxmoxSettings {
  std::string url;           // https://pve1:8006
  std::string token_id;      // USER@REALM!TOKENID
  std::string token_secret;  // the token's UUID secret
  std::string username;      // USER@REALM
  std::string password;
  io::TlsOptions tls;  // CA file or SHA-256 fingerprint for self-signed clusters
  std::chrono::milliseconds timeout{30000};

  // PROXMOX_URL, PROXMOX_TOKEN_ID, PROXMOX_TOKEN_SECRET(_FILE), PROXMOX_USER, PROXMOX_PASSWORD(_FILE),
  // PROXMOX_CA_FILE, PROXMOX_FINGERPRINT, PROXMOX_INSECURE.
  static ProxmoxSettings from_env(const Getenv& getenv);
};

// "PVEAPIToken=USER@REALM!TOKENID=SECRET". Throws ConfigError when the token id is not USER@REALM!TOKENID.
std::string api_token_header(const std::string& token_id, const std::string& secret);

struct Ticket {
  std::string ticket;      // PVEAuthCookie value (a secret)
  std::string csrf_token;  // CSRFPreventionToken, required on POST with the cookie
  std::string username;
};
// From POST /access/ticket's {"data":{ticket, CSRFPreventionToken, username, …}}; ProviderError when absent.
Ticket parse_ticket(const std::string& body);

struct VncProxy {
  std::string port;      // a number, as text (Proxmox sends a string)
  std::string ticket;    // vncticket for the WebSocket URL (a secret)
  std::string password;  // set when generate-password was asked (QEMU); else the ticket is the password
  std::string user;
};
// From vncproxy/vncshell's {"data":{port, ticket, password?, user, cert, upid}}; ProviderError when absent.
VncProxy parse_vncproxy(const std::string& body);

// /api2/json/nodes/NODE/qemu/VMID/vncproxy, …/lxc/VMID/vncproxy, /api2/json/nodes/NODE/vncshell.
std::string vncproxy_path(const Target& target);
// …/vncwebsocket?port=P&vncticket=T for the same target.
std::string vncwebsocket_path(const Target& target, const VncProxy& proxy);

// proxmox:NODE/qemu|lxc/VMID and proxmox:NODE/node → vncproxy/vncshell → WebSocket with the same auth.
// The port accepts one connection within ~10 s, so acquire right before connecting.
class ProxmoxProvider final : public Provider {
 public:
  explicit ProxmoxProvider(ProxmoxSettings settings);
  asio::awaitable<ConsoleEndpoint> acquire(const Target& target) override;

 private:
  asio::awaitable<void> login();
  // Authorization or Cookie header (and CSRF token when `post`).
  http::Headers auth_headers(bool post) const;
  http::Request request(const std::string& method, const std::string& path) const;
  http::Request login_request() const;
  http::Request vncproxy_request(const Target& target) const;
  ConsoleEndpoint make_endpoint(const Target& target, const VncProxy& proxy) const;

  ProxmoxSettings settings_;
  std::optional<Ticket> ticket_;
};

}  // namespace vncgate::providers::proxmox
