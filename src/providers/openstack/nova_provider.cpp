// SPDX-License-Identifier: Apache-2.0
#include "providers/openstack/nova_provider.hpp"

#include <spdlog/spdlog.h>

#include "http/http_client.hpp"
#include "util/error.hpp"

namespace vncgate::providers::openstack {
namespace {

// Nova's default [consoleauth] token_ttl: the console URL stops working after this.
constexpr std::chrono::seconds kConsoleTokenTtl{600};

// The value of query parameter `name` (still percent-encoded), or nullopt.
std::optional<std::string> query_param(const std::string& target, const std::string& name) {
  const auto q = target.find('?');
  if (q == std::string::npos) return std::nullopt;
  std::size_t pos = q + 1;
  while (pos <= target.size()) {
    const auto end = std::min(target.find('&', pos), target.size());
    const std::string pair = target.substr(pos, end - pos);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) == name) return eq == std::string::npos ? "" : pair.substr(eq + 1);
    pos = end + 1;
  }
  return std::nullopt;
}

std::string step_error(const std::string& server, const std::string& step, const http::Response& r) {
  std::string hint;
  switch (r.status) {
    case 403: hint = " (the user needs the member role in the project; see docs/providers.md)"; break;
    case 404: hint = " (no such server in this project)"; break;
    case 409: hint = " (the server is not running; start it first)"; break;
    default: break;
  }
  return "OpenStack server " + server + ": " + step + ": " + describe_failure(r) + hint;
}

// Request and endpoint builders live outside the coroutines: g++ 12 rejects braced lists of string literals
// inside a coroutine ("array used as initializer").
http::Request nova_request(const std::string& url, const std::string& token, const nlohmann::json& body,
                           bool microversion, const KeystoneSettings& keystone) {
  http::Request request;
  request.method = "POST";
  request.url = url;
  request.headers = {{"X-Auth-Token", token}, {"Content-Type", "application/json"}, {"Accept", "application/json"}};
  if (microversion) {
    // Nova before 2.27 (Liberty, Mitaka) reads only the legacy header; later releases prefer the standard one.
    request.headers.emplace_back("OpenStack-API-Version", "compute 2.6");
    request.headers.emplace_back("X-OpenStack-Nova-API-Version", "2.6");
  }
  request.body = body.dump();
  request.tls = keystone.tls;
  request.timeout = keystone.timeout;
  return request;
}

nlohmann::json remote_console_body() { return {{"remote_console", {{"protocol", "vnc"}, {"type", "novnc"}}}}; }
nlohmann::json legacy_console_body() { return {{"os-getVNCConsole", {{"type", "novnc"}}}}; }

// The "url" inside body[key], or "".
std::string console_url_in(const std::string& body, const char* key) {
  const auto json = nlohmann::json::parse(body, nullptr, false);
  if (!json.is_object() || !json.contains(key) || !json[key].is_object()) return "";
  return json[key].value("url", "");
}

ConsoleEndpoint make_endpoint(const ConsoleWebSocket& ws, const NovaSettings& settings) {
  ConsoleEndpoint out;
  out.endpoint.url = ws.url;
  out.endpoint.headers = {{"Origin", ws.origin}};
  out.endpoint.subprotocols = {"binary"};
  out.endpoint.tls = settings.console_tls;
  out.endpoint.connect_timeout = settings.connect_timeout;
  out.expires_at = Clock::now() + kConsoleTokenTtl;
  return out;
}

}  // namespace

std::optional<ConsoleWebSocket> console_websocket(const std::string& console_url, std::string* error) {
  auto fail = [&](std::string reason) -> std::optional<ConsoleWebSocket> {
    if (error != nullptr) *error = std::move(reason);
    return std::nullopt;
  };
  std::string reason;
  auto url = http::parse_url(console_url, &reason);
  if (!url) return fail("console URL: " + reason);
  const std::string ws_scheme = url->scheme == "https" ? "wss" : "ws";
  const std::string base = ws_scheme + url->origin().substr(url->scheme.size());
  std::string path;
  if (auto nested = query_param(url->target, "path")) {
    // noVNC appends `path` to ws://host:port/, so "%3Ftoken%3DX" means ws://host:port/?token=X.
    auto decoded = http::percent_decode(*nested);
    if (!decoded || decoded->empty()) return fail("console URL has a malformed 'path' parameter");
    path = decoded->front() == '/' ? *decoded : "/" + *decoded;
  } else if (auto token = query_param(url->target, "token")) {
    if (token->empty()) return fail("console URL has an empty token");
    path = "/?token=" + *token;
  } else {
    return fail("console URL carries no token (neither ?path=…token… nor ?token=…)");
  }
  if (path.find("token=") == std::string::npos) return fail("console URL's path carries no token");
  return ConsoleWebSocket{base + path, url->origin()};
}

NovaProvider::NovaProvider(NovaSettings settings) : settings_(std::move(settings)), session_(settings_.keystone) {
  if (settings_.console_tls.insecure) {
    spdlog::warn("OpenStack: TLS certificate verification to the console proxy is OFF (OS_INSECURE)");
  }
}

asio::awaitable<http::Response> NovaProvider::post(const std::string& path, const nlohmann::json& body,
                                                   bool microversion) {
  for (int attempt = 0;; ++attempt) {
    const std::string compute = co_await session_.endpoint("compute");
    const Token token = co_await session_.token();
    auto response = co_await http::send(nova_request(compute + path, token.id, body, microversion, settings_.keystone));
    // A cached token can be revoked or expire early (clock skew): re-authenticate once, not in a loop.
    if (response.status == 401 && attempt == 0) {
      spdlog::info("OpenStack: Nova refused the cached token; authenticating again");
      session_.invalidate();
      continue;
    }
    co_return response;
  }
}

asio::awaitable<ConsoleEndpoint> NovaProvider::acquire(const Target& target) {
  const std::string& server = target.server_id;
  std::string step = "create remote console", answer_key = "remote_console";
  auto response = co_await post("/servers/" + server + "/remote-consoles", remote_console_body(), true);
  if (response.status == 406 || (response.status == 404 && response.body.find("itemNotFound") == std::string::npos)) {
    // 406: the cloud predates microversion 2.6 (Liberty); 404 without itemNotFound: no such route.
    spdlog::info("OpenStack: remote-consoles unavailable ({}); using the legacy os-getVNCConsole action",
                 response.status);
    step = "os-getVNCConsole";
    answer_key = "console";
    response = co_await post("/servers/" + server + "/action", legacy_console_body(), false);
  }
  if (response.status == 401) {
    throw AuthError(step_error(server, step, response) + " (token refused after re-authentication)");
  }
  if (response.status != 200) throw ProviderError(step_error(server, step, response));
  const std::string console_url = console_url_in(response.body, answer_key.c_str());
  if (console_url.empty()) throw ProviderError("OpenStack server " + server + ": Nova's console answer has no URL");
  std::string error;
  auto ws = console_websocket(console_url, &error);
  if (!ws) throw ProviderError("OpenStack server " + server + ": " + error);

  spdlog::debug("OpenStack server {}: console at {}", server, io::redact_url(ws->url));
  co_return make_endpoint(*ws, settings_);
}

}  // namespace vncgate::providers::openstack
