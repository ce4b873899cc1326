// SPDX-License-Identifier: Apache-2.0
#include "service/sessions_api.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/write.hpp>
#include <nlohmann/json.hpp>
#include <tuple>

#include "io/byte_stream.hpp"
#include "io/endpoint.hpp"
#include "io/offload.hpp"
#include "io/relay.hpp"
#include "io/websocket_accept.hpp"
#include "service/job_request.hpp"
#include "service/recordings_api.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace vncgate::service {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using nlohmann::json;

namespace {

bool is_session_id(const std::string& id) {
  return !id.empty() && id.size() <= 64 &&
         id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == std::string::npos;
}

HttpResponse link_response(const gateway::Link& link, const ServiceSettings& settings) {
  std::string url = settings.gateway.public_url + "/console/" + link.token;
  if (link.view_only) url += "?view_only=1";  // only for the page's badge: the server enforces view-only
  auto r = json_response(201, json{{"session_id", link.session_id},
                                   {"url", url},
                                   {"expires_at", iso8601_ms(link.expires_unix_ms)},
                                   {"view_only", link.view_only}}
                                  .dump());
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

// view_only (bool) and ttl (1 s … 1 day) of a link request; an empty body means the defaults.
std::variant<std::pair<bool, std::optional<std::chrono::seconds>>, Rejection> link_options(const json& body) {
  bool view_only = false;
  std::optional<std::chrono::seconds> ttl;
  if (auto it = body.find("view_only"); it != body.end() && !it->is_null()) {
    if (!it->is_boolean()) return Rejection{400, "invalid_field", "view_only must be true or false"};
    view_only = it->get<bool>();
  }
  if (auto it = body.find("ttl"); it != body.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 1 || it->get<std::int64_t>() > 86400)
      return Rejection{400, "invalid_field", "ttl must be a whole number of seconds from 1 to 86400"};
    ttl = std::chrono::seconds(it->get<std::int64_t>());
  }
  return std::pair{view_only, ttl};
}

std::variant<json, Rejection> object_body(const std::string& text) {
  if (text.empty()) return json::object();
  json body = json::parse(text, nullptr, false);
  if (body.is_discarded()) return Rejection{400, "malformed_json", "the request body is not valid JSON"};
  if (!body.is_object()) return Rejection{400, "invalid_body", "the request body must be a JSON object"};
  return body;
}

template <class Stream>
asio::awaitable<void> refuse(Stream& stream, bhttp::status status, std::string message) {
  boost::beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
  bhttp::response<bhttp::string_body> response{status, 11};
  response.set(bhttp::field::content_type, "application/json");
  response.set(bhttp::field::connection, "close");
  const char* code = status == bhttp::status::forbidden ? "forbidden"
                     : status == bhttp::status::gone    ? "link_invalid"
                                                        : "unavailable";
  response.body() = json{{"error", {{"code", code}, {"message", std::move(message)}}}}.dump();
  response.prepare_payload();
  co_await bhttp::async_write(stream, response, asio::as_tuple(asio::use_awaitable));
  boost::system::error_code ignored;
  boost::beast::get_lowest_layer(stream).socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
}

// Refuses on whichever transport the upgrade came.
asio::awaitable<void> refuse(UpgradeConnection& connection, bhttp::status status, std::string message) {
  if (connection.tls) {
    co_await refuse(*connection.tls, status, std::move(message));
  } else {
    boost::beast::tcp_stream stream(std::move(*connection.plain));
    co_await refuse(stream, status, std::move(message));
  }
}

// A viewer WebSocket from the accepted upgrade, plain or TLS.
asio::awaitable<std::unique_ptr<io::ByteStream>> accept_viewer(UpgradeConnection& connection,
                                                               const UpgradeRequest& upgrade,
                                                               std::chrono::seconds heartbeat) {
  io::WsAcceptOptions options;  // Origin checked by the server
  options.ping_interval = heartbeat;
  // Two statements, not a conditional expression: g++ 12 miscompiles co_await inside `?:`.
  std::unique_ptr<io::ByteStream> viewer;
  if (connection.tls)
    viewer =
        co_await io::accept_websocket(std::move(*connection.tls), std::move(connection.tls_context), upgrade, options);
  else
    viewer = co_await io::accept_websocket(std::move(*connection.plain), upgrade, options);
  co_return viewer;
}

// The owner's internal viewer endpoint for a session (ws:// or wss:// as its advertise_url is http or https).
io::Endpoint owner_endpoint(const Redemption& redeemed, const ClusterTicket& tickets) {
  io::Endpoint endpoint;
  const bool tls = redeemed.owner_url.rfind("https://", 0) == 0;
  endpoint.url = (tls ? "wss://" : "ws://") + redeemed.owner_url.substr(tls ? 8 : 7) + "/internal/v1/sessions/" +
                 redeemed.session_id + "/viewer";
  endpoint.headers.emplace_back(ClusterTicket::kHeader, tickets.issue(redeemed.session_id, redeemed.view_only));
  endpoint.connect_timeout = std::chrono::seconds(5);
  return endpoint;
}

// The server refused foreign origins before this (service/request_guard.hpp): a page from elsewhere cannot use
// (and burn) a link. Clients without Origin (vncgate, scripts) are not browsers: the token alone authorises them.
// A session held by another node of the cluster is reached through its owner: connected first (a dead owner
// gets a 502 rather than a WebSocket that closes at once), then the viewer's bytes are relayed both ways.
asio::awaitable<void> open_console(SessionRoutes routes, std::chrono::seconds heartbeat, UpgradeConnection connection,
                                   UpgradeRequest upgrade, std::string token) {
  auto executor = connection.tls ? connection.tls->get_executor() : connection.plain->get_executor();
  std::optional<Redemption> redeemed;
  bool directory_failed = false;  // answered outside the handler: no co_await in a catch block
  try {
    SessionDirectory* directory = &routes.directory;
    auto redeem = [directory, token] { return directory->redeem(token); };
    redeemed = co_await io::offload(routes.blocking, redeem);
  } catch (const std::exception& e) {
    spdlog::warn("gateway: console link not redeemed: {}", e.what());
    directory_failed = true;
  }
  if (directory_failed) {
    co_await refuse(connection, bhttp::status::service_unavailable, "the session directory is unavailable");
    co_return;
  }
  if (!redeemed) {
    co_await refuse(connection, bhttp::status::gone, "this console link was used already or has expired");
    co_return;
  }
  std::unique_ptr<io::ByteStream> owner;
  if (!redeemed->owner_url.empty()) {
    try {
      if (!routes.tickets) throw ConfigError("no cluster.secret to reach the node that holds the session");
      const auto endpoint = owner_endpoint(*redeemed, *routes.tickets);
      owner = co_await io::connect(executor, endpoint);
    } catch (const std::exception& e) {
      spdlog::warn("gateway: session {} at {} unreachable: {}", redeemed->session_id, redeemed->owner_url, e.what());
    }
    if (!owner) {
      co_await refuse(connection, bhttp::status::bad_gateway, "the node that holds this console is unreachable");
      co_return;
    }
  }
  try {
    auto viewer = co_await accept_viewer(connection, upgrade, heartbeat);
    if (owner)
      io::relay(executor, std::move(viewer), std::move(owner));
    else
      routes.manager.attach(redeemed->session_id, std::move(viewer), redeemed->view_only);
  } catch (const Error& e) {
    spdlog::warn("gateway: console for session {} not opened: {}", redeemed->session_id, e.what());
  }
}

// A viewer another node forwards to this one (the session's owner): only with a valid, unused ticket for this
// very session (ClusterTicket), and only while the session is live here.
asio::awaitable<void> accept_forwarded(SessionRoutes routes, std::chrono::seconds heartbeat,
                                       UpgradeConnection connection, UpgradeRequest upgrade, std::string session_id,
                                       std::string ticket) {
  std::string why;
  const auto view_only =
      is_session_id(session_id) ? routes.tickets->accept(ticket, session_id, &why) : std::optional<bool>();
  if (!view_only) {
    spdlog::warn("cluster: refused a forwarded viewer: {}", why.empty() ? "bad session id" : why);
    co_await refuse(connection, bhttp::status::forbidden, "not a valid cluster ticket");
    co_return;
  }
  if (!routes.manager.find(session_id)) {
    co_await refuse(connection, bhttp::status::gone, "no such session on this node");
    co_return;
  }
  try {
    auto viewer = co_await accept_viewer(connection, upgrade, heartbeat);
    routes.manager.attach(session_id, std::move(viewer), *view_only);
  } catch (const Error& e) {
    spdlog::warn("cluster: forwarded viewer for session {} not attached: {}", session_id, e.what());
  }
}

}  // namespace

std::variant<SessionRequest, Rejection> parse_session_request(const std::string& text) {
  auto body = object_body(text);
  if (auto* r = std::get_if<Rejection>(&body)) return *r;
  const auto& b = std::get<json>(body);
  auto target = b.find("target");
  if (target == b.end() || target->is_null()) return Rejection{400, "missing_field", "target is required"};
  if (!target->is_string() || target->get<std::string>().empty() || target->get<std::string>().size() > 1024)
    return Rejection{400, "invalid_field", "target must be a non-empty string"};
  auto options = link_options(b);
  if (auto* r = std::get_if<Rejection>(&options)) return *r;
  SessionRequest out;
  out.target = target->get<std::string>();
  std::tie(out.view_only, out.ttl) = std::get<0>(options);
  if (auto it = b.find("record"); it != b.end() && !it->is_null()) {
    if (!it->is_boolean()) return Rejection{400, "invalid_field", "record must be true or false"};
    out.record = it->get<bool>();
  }
  return out;
}

std::string session_bucket(const std::string& session_id) {
  static const char* hex = "0123456789abcdef";
  std::string out = "session-";
  for (unsigned char c : session_id.substr(0, 27)) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

void add_session_routes(Router& router, SessionRoutes routes, const ServiceSettings& settings) {
  const auto heartbeat = settings.gateway.heartbeat;  // viewers' WebSocket heartbeat
  auto& directory = routes.directory;
  router.add("POST", "/api/v1/sessions", [&directory, &settings](const HttpRequest& request) {
    auto parsed = parse_session_request(request.body);
    if (auto* r = std::get_if<Rejection>(&parsed)) return json_error(r->status, r->code, r->message);
    const auto& wanted = std::get<SessionRequest>(parsed);
    auto resolved = resolve_console(settings.targets, wanted.target);
    if (auto* r = std::get_if<Rejection>(&resolved)) return json_error(r->status, r->code, r->message);
    // Before answering: a forbidden target must not get a session that retries it until idle expiry.
    if (auto r = check_allowed(settings.targets, std::get<ResolvedTarget>(resolved)))
      return json_error(r->status, r->code, r->message);
    try {
      return link_response(directory.create_link(std::get<ResolvedTarget>(resolved).target, wanted.view_only,
                                                 wanted.ttl, wanted.record, request.client),
                           settings);
    } catch (const gateway::LimitError& e) {
      return json_error(429, "too_many_sessions", e.what());
    }
  });
  router.add("POST", "/api/v1/sessions/{id}/links", [&directory, &settings](const HttpRequest& request) {
    const auto& id = request.params.at("id");
    if (!is_session_id(id)) return json_error(404, "not_found", "no such session");
    auto body = object_body(request.body);
    if (auto* r = std::get_if<Rejection>(&body)) return json_error(r->status, r->code, r->message);
    auto options = link_options(std::get<json>(body));
    if (auto* r = std::get_if<Rejection>(&options)) return json_error(r->status, r->code, r->message);
    const auto& [view_only, ttl] = std::get<0>(options);
    auto link = directory.create_link_for(id, view_only, ttl);
    if (!link) return json_error(404, "not_found", "no such session");
    return link_response(*link, settings);
  });
  router.add("GET", "/api/v1/sessions", [&directory](const HttpRequest&) {
    json out = {{"sessions", json::array()}};
    for (auto& s : directory.list()) out["sessions"].push_back(std::move(s));
    return json_response(200, out.dump());
  });
  router.add("GET", "/api/v1/sessions/{id}", [&directory](const HttpRequest& request) {
    const auto& id = request.params.at("id");
    auto info = is_session_id(id) ? directory.get(id) : std::nullopt;
    if (!info) return json_error(404, "not_found", "no such session");
    return json_response(200, info->dump());
  });
  router.add("DELETE", "/api/v1/sessions/{id}", [&directory](const HttpRequest& request) {
    const auto& id = request.params.at("id");
    if (!is_session_id(id) || !directory.close(id)) return json_error(404, "not_found", "no such session");
    HttpResponse r;
    r.status = 204;
    return r;
  });
  router.add("DELETE", "/api/v1/sessions", [&directory](const HttpRequest&) {
    return json_response(200, json{{"closed", directory.close_all()}}.dump());
  });
  router.add_upgrade("/ws/{token}", [routes, heartbeat](UpgradeConnection connection, UpgradeRequest upgrade,
                                                        const HttpRequest& request) {
    auto executor = connection.tls ? connection.tls->get_executor() : connection.plain->get_executor();
    asio::co_spawn(
        executor,
        open_console(routes, heartbeat, std::move(connection), std::move(upgrade), request.params.at("token")),
        asio::detached);
  });
  if (!routes.tickets) return;
  router.add_upgrade(
      "/internal/v1/sessions/{id}/viewer",
      [routes, heartbeat](UpgradeConnection connection, UpgradeRequest upgrade, const HttpRequest& request) {
        auto executor = connection.tls ? connection.tls->get_executor() : connection.plain->get_executor();
        auto ticket = request.header(ClusterTicket::kHeader).value_or("");  // named: see open_console
        asio::co_spawn(executor,
                       accept_forwarded(routes, heartbeat, std::move(connection), std::move(upgrade),
                                        request.params.at("id"), std::move(ticket)),
                       asio::detached);
      });
}

}  // namespace vncgate::service
