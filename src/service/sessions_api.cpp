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

json session_json(const gateway::SessionInfo& s) {
  json out = {{"session_id", s.id},
              {"target", s.target_label},
              {"state", gateway::to_string(s.state)},
              {"viewers", s.viewers},
              {"view_only_viewers", s.view_only_viewers},
              {"created_at", iso8601_ms(s.created_unix_ms)},
              {"last_used_at", iso8601_ms(s.last_used_unix_ms)},
              {"bytes_to_viewers", s.bytes_to_viewers},
              {"bytes_from_upstream", s.bytes_from_upstream},
              {"frames", s.frames},
              {"width", s.width},
              {"height", s.height},
              {"recording", s.recording},
              {"total_connections", s.total_connections},
              {"dropped_input_events", s.dropped_input_events},
              {"updates_encoded", s.updates_encoded},
              {"updates_shared", s.updates_shared},
              {"hibernating", s.hibernating}};
  if (s.recording) out["bucket_id"] = session_bucket(s.id);
  return out;
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
  response.body() = json{{"error",
                          {{"code", status == bhttp::status::forbidden ? "forbidden" : "link_invalid"},
                           {"message", std::move(message)}}}}
                        .dump();
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

// The server refused foreign origins before this (service/request_guard.hpp): a page from elsewhere cannot use
// (and burn) a link. Clients without Origin (vncgate, scripts) are not browsers: the token alone authorises them.
asio::awaitable<void> open_console(gateway::SessionManager& manager, UpgradeConnection connection,
                                   UpgradeRequest upgrade, std::string token) {
  auto redeemed = manager.redeem(token);
  if (!redeemed) {
    co_await refuse(connection, bhttp::status::gone, "this console link was used already or has expired");
    co_return;
  }
  try {
    const io::WsAcceptOptions options;  // Origin checked by the server
    // Two statements, not a conditional expression: g++ 12 miscompiles co_await inside `?:`.
    std::unique_ptr<io::ByteStream> viewer;
    if (connection.tls)
      viewer = co_await io::accept_websocket(std::move(*connection.tls), std::move(connection.tls_context), upgrade,
                                             options);
    else
      viewer = co_await io::accept_websocket(std::move(*connection.plain), upgrade, options);
    manager.attach(redeemed->session_id, std::move(viewer), redeemed->view_only);
  } catch (const Error& e) {
    spdlog::warn("gateway: console for session {} not opened: {}", redeemed->session_id, e.what());
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

void add_session_routes(Router& router, gateway::SessionManager& manager, const ServiceSettings& settings) {
  router.add("POST", "/api/v1/sessions", [&manager, &settings](const HttpRequest& request) {
    auto parsed = parse_session_request(request.body);
    if (auto* r = std::get_if<Rejection>(&parsed)) return json_error(r->status, r->code, r->message);
    const auto& wanted = std::get<SessionRequest>(parsed);
    auto resolved = resolve_console(settings.targets, wanted.target);
    if (auto* r = std::get_if<Rejection>(&resolved)) return json_error(r->status, r->code, r->message);
    // Before answering: a forbidden target must not get a session that retries it until idle expiry.
    if (auto r = check_allowed(settings.targets, std::get<ResolvedTarget>(resolved)))
      return json_error(r->status, r->code, r->message);
    try {
      return link_response(manager.create_link(std::get<ResolvedTarget>(resolved).target, wanted.view_only, wanted.ttl,
                                               wanted.record, request.client),
                           settings);
    } catch (const gateway::LimitError& e) {
      return json_error(429, "too_many_sessions", e.what());
    }
  });
  router.add("POST", "/api/v1/sessions/{id}/links", [&manager, &settings](const HttpRequest& request) {
    const auto& id = request.params.at("id");
    if (!is_session_id(id) || !manager.get(id)) return json_error(404, "not_found", "no such session");
    auto body = object_body(request.body);
    if (auto* r = std::get_if<Rejection>(&body)) return json_error(r->status, r->code, r->message);
    auto options = link_options(std::get<json>(body));
    if (auto* r = std::get_if<Rejection>(&options)) return json_error(r->status, r->code, r->message);
    const auto& [view_only, ttl] = std::get<0>(options);
    try {
      return link_response(manager.create_link_for(id, view_only, ttl), settings);
    } catch (const UsageError&) {  // closed meanwhile
      return json_error(404, "not_found", "no such session");
    }
  });
  router.add("GET", "/api/v1/sessions", [&manager](const HttpRequest&) {
    json out = {{"sessions", json::array()}};
    for (const auto& s : manager.list()) out["sessions"].push_back(session_json(s));
    return json_response(200, out.dump());
  });
  router.add("GET", "/api/v1/sessions/{id}", [&manager](const HttpRequest& request) {
    const auto& id = request.params.at("id");
    auto info = is_session_id(id) ? manager.get(id) : std::nullopt;
    if (!info) return json_error(404, "not_found", "no such session");
    return json_response(200, session_json(*info).dump());
  });
  router.add("DELETE", "/api/v1/sessions/{id}", [&manager](const HttpRequest& request) {
    const auto& id = request.params.at("id");
    if (!is_session_id(id) || !manager.close(id)) return json_error(404, "not_found", "no such session");
    HttpResponse r;
    r.status = 204;
    return r;
  });
  router.add("DELETE", "/api/v1/sessions", [&manager](const HttpRequest&) {
    return json_response(200, json{{"closed", manager.close_all()}}.dump());
  });
  router.add_upgrade(
      "/ws/{token}", [&manager](UpgradeConnection connection, UpgradeRequest upgrade, const HttpRequest& request) {
        auto executor = connection.tls ? connection.tls->get_executor() : connection.plain->get_executor();
        asio::co_spawn(executor,
                       open_console(manager, std::move(connection), std::move(upgrade), request.params.at("token")),
                       asio::detached);
      });
}

}  // namespace vncgate::service
