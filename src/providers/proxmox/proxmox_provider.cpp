// SPDX-License-Identifier: Apache-2.0
#include "providers/proxmox/proxmox_provider.hpp"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "http/http_client.hpp"
#include "util/error.hpp"

namespace vncgate::providers::proxmox {
namespace {

// The port a vncproxy opens waits ~10 s for its one connection.
constexpr std::chrono::seconds kVncProxyTtl{10};

std::string env(const Getenv& getenv, const char* name) {
  const char* v = getenv(name);
  return v == nullptr ? "" : v;
}

nlohmann::json data_of(const std::string& body, const std::string& what) {
  const auto json = nlohmann::json::parse(body, nullptr, false);
  if (!json.is_object() || !json.contains("data") || !json["data"].is_object()) {
    throw ProviderError("Proxmox " + what + ": answer has no \"data\" object");
  }
  return json["data"];
}

std::string string_field(const nlohmann::json& data, const char* name) {
  if (!data.contains(name)) return "";
  const auto& v = data[name];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<long long>());
  return "";
}

std::string step_error(const Target& target, const std::string& step, const http::Response& r) {
  std::string hint;
  if (r.status == 403) hint = " (the user or token needs VM.Console on the guest, Sys.Console for node shells)";
  if (r.status == 401) hint = " (check the API token secret or password)";
  return "Proxmox " + step + " for " + target.describe() + ": " + describe_failure(r) + hint;
}

}  // namespace

ProxmoxSettings ProxmoxSettings::from_env(const Getenv& getenv) {
  ProxmoxSettings s;
  s.url = env(getenv, "PROXMOX_URL");
  s.token_id = env(getenv, "PROXMOX_TOKEN_ID");
  s.token_secret = env_or_file(getenv, "PROXMOX_TOKEN_SECRET");
  s.username = env(getenv, "PROXMOX_USER");
  s.password = env_or_file(getenv, "PROXMOX_PASSWORD");
  s.tls.ca_file = env(getenv, "PROXMOX_CA_FILE");
  s.tls.sha256_fingerprint = env(getenv, "PROXMOX_FINGERPRINT");
  s.tls.insecure = env_flag(getenv, "PROXMOX_INSECURE");
  return s;
}

std::string api_token_header(const std::string& token_id, const std::string& secret) {
  const auto at = token_id.find('@');
  const auto bang = token_id.find('!');
  if (at == std::string::npos || at == 0 || bang == std::string::npos || bang < at + 2 || bang + 1 == token_id.size() ||
      token_id.find_first_of("= \r\n") != std::string::npos) {
    throw ConfigError("Proxmox API token id must look like USER@REALM!TOKENID (e.g. vncgate@pve!console)");
  }
  if (secret.empty() || secret.find_first_of(" \r\n") != std::string::npos) {
    throw ConfigError("Proxmox API token secret is empty or malformed (PROXMOX_TOKEN_SECRET)");
  }
  return "PVEAPIToken=" + token_id + "=" + secret;
}

Ticket parse_ticket(const std::string& body) {
  const auto data = data_of(body, "login");
  Ticket t{string_field(data, "ticket"), string_field(data, "CSRFPreventionToken"), string_field(data, "username")};
  if (t.ticket.empty() || t.csrf_token.empty()) {
    throw ProviderError("Proxmox login: answer lacks ticket or CSRFPreventionToken");
  }
  return t;
}

VncProxy parse_vncproxy(const std::string& body) {
  const auto data = data_of(body, "vncproxy");
  VncProxy p{string_field(data, "port"), string_field(data, "ticket"), string_field(data, "password"),
             string_field(data, "user")};
  if (p.port.empty() || p.port.find_first_not_of("0123456789") != std::string::npos || p.ticket.empty()) {
    throw ProviderError("Proxmox vncproxy: answer lacks a numeric port or a ticket");
  }
  return p;
}

std::string vncproxy_path(const Target& t) {
  const std::string node = "/api2/json/nodes/" + t.node;
  switch (t.guest) {
    case ProxmoxGuest::qemu: return node + "/qemu/" + t.vmid + "/vncproxy";
    case ProxmoxGuest::lxc: return node + "/lxc/" + t.vmid + "/vncproxy";
    case ProxmoxGuest::node: return node + "/vncshell";
  }
  throw std::logic_error("unknown Proxmox guest kind");
}

std::string vncwebsocket_path(const Target& t, const VncProxy& p) {
  const std::string node = "/api2/json/nodes/" + t.node;
  std::string path =
      t.guest == ProxmoxGuest::node ? node : node + (t.guest == ProxmoxGuest::qemu ? "/qemu/" : "/lxc/") + t.vmid;
  return path + "/vncwebsocket?port=" + p.port + "&vncticket=" + http::percent_encode(p.ticket);
}

ProxmoxProvider::ProxmoxProvider(ProxmoxSettings settings) : settings_(std::move(settings)) {
  while (!settings_.url.empty() && settings_.url.back() == '/') settings_.url.pop_back();
  if (settings_.url.empty()) throw ConfigError("Proxmox: set PROXMOX_URL (e.g. https://pve1:8006)");
  if (!http::parse_url(settings_.url)) throw ConfigError("Proxmox: PROXMOX_URL is not an http(s) URL");
  if (settings_.token_id.empty() && settings_.username.empty()) {
    throw ConfigError("Proxmox: set PROXMOX_TOKEN_ID and PROXMOX_TOKEN_SECRET (or PROXMOX_USER and PROXMOX_PASSWORD)");
  }
  if (!settings_.token_id.empty())
    api_token_header(settings_.token_id, settings_.token_secret);  // validates
  else if (settings_.password.empty())
    throw ConfigError("Proxmox: set PROXMOX_PASSWORD for " + settings_.username);
  if (settings_.tls.insecure) {
    spdlog::warn(
        "Proxmox: TLS certificate verification is OFF (PROXMOX_INSECURE); pin the certificate with "
        "PROXMOX_FINGERPRINT instead");
  }
}

http::Headers ProxmoxProvider::auth_headers(bool post) const {
  if (!settings_.token_id.empty())
    return {{"Authorization", api_token_header(settings_.token_id, settings_.token_secret)}};
  http::Headers h{{"Cookie", "PVEAuthCookie=" + http::percent_encode(ticket_->ticket)}};
  if (post) h.emplace_back("CSRFPreventionToken", ticket_->csrf_token);
  return h;
}

http::Request ProxmoxProvider::request(const std::string& method, const std::string& path) const {
  http::Request r;
  r.method = method;
  r.url = settings_.url + path;
  r.tls = settings_.tls;
  r.timeout = settings_.timeout;
  return r;
}

// Request builders live outside the coroutines: g++ 12 rejects braced lists of string literals inside one.
http::Request ProxmoxProvider::login_request() const {
  auto r = request("POST", "/api2/json/access/ticket");
  r.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  r.body = http::form_encode({{"username", settings_.username}, {"password", settings_.password}});
  return r;
}

http::Request ProxmoxProvider::vncproxy_request(const Target& target) const {
  auto r = request("POST", vncproxy_path(target));
  r.headers = auth_headers(true);
  r.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  http::Headers form{{"websocket", "1"}};
  // QEMU consoles: ask for a separate one-time VNC password (PVE >= 7.1); LXC and node shells use the ticket.
  if (target.guest == ProxmoxGuest::qemu) form.emplace_back("generate-password", "1");
  r.body = http::form_encode(form);
  return r;
}

ConsoleEndpoint ProxmoxProvider::make_endpoint(const Target& target, const VncProxy& proxy) const {
  const auto base = *http::parse_url(settings_.url);
  ConsoleEndpoint out;
  out.endpoint.url = (base.scheme == "https" ? "wss" : "ws") + base.origin().substr(base.scheme.size()) +
                     vncwebsocket_path(target, proxy);
  out.endpoint.headers = auth_headers(false);
  out.endpoint.subprotocols = {"binary"};
  out.endpoint.tls = settings_.tls;
  out.password = proxy.password.empty() ? proxy.ticket : proxy.password;
  out.expires_at = std::chrono::system_clock::now() + kVncProxyTtl;
  return out;
}

asio::awaitable<void> ProxmoxProvider::login() {
  const auto response = co_await http::send(login_request());
  if (response.status == 401) {
    throw AuthError("Proxmox login as " + settings_.username + " refused: " + describe_failure(response));
  }
  if (response.status != 200) {
    throw ProviderError("Proxmox login as " + settings_.username + ": " + describe_failure(response));
  }
  ticket_ = parse_ticket(response.body);
}

asio::awaitable<ConsoleEndpoint> ProxmoxProvider::acquire(const Target& target) {
  const bool use_ticket = settings_.token_id.empty();
  http::Response response;
  for (int attempt = 0;; ++attempt) {
    if (use_ticket && !ticket_) co_await login();
    response = co_await http::send(vncproxy_request(target));
    // Tickets last two hours; a long-running service re-logs in once when one has expired.
    if (response.status == 401 && use_ticket && attempt == 0) {
      ticket_.reset();
      continue;
    }
    break;
  }
  const std::string step = target.guest == ProxmoxGuest::node ? "vncshell" : "vncproxy";
  if (response.status == 401) throw AuthError(step_error(target, step, response));
  if (response.status != 200) throw ProviderError(step_error(target, step, response));
  co_return make_endpoint(target, parse_vncproxy(response.body));
}

}  // namespace vncgate::providers::proxmox
