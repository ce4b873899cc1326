// SPDX-License-Identifier: Apache-2.0
#include "service/text_api.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>
#include <nlohmann/json.hpp>

#include "gateway/live_text.hpp"
#include "gateway/session.hpp"
#include "providers/openstack/keystone.hpp"
#include "service/recordings_api.hpp"
#include "util/log.hpp"

namespace vncgate::service {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

constexpr std::size_t kMaxNeedleBytes = 256;
constexpr double kMaxWaitSeconds = 3600;

json screen_json(const gateway::ScreenText& s) {
  return {{"text", s.text}, {"lines", s.lines}, {"columns", s.columns}, {"rows", s.rows}};
}

HttpResponse not_text() {
  return json_error(409, "not_text", "the session's screen is not a text screen in a known console font");
}

// One waiting request: its timer (on the connection's strand) is cancelled when the session's reader settles
// the waiter; expiry is the timeout.
struct Waiting {
  explicit Waiting(asio::any_io_executor strand) : timer(std::move(strand)) {}
  asio::steady_timer timer;
  std::shared_ptr<gateway::TextWaiter> waiter = std::make_shared<gateway::TextWaiter>();
};

// Watches `session` until `needle` (empty: the next reading) is on screen or `timeout` passes; nullopt at the
// timeout. Runs on the HTTP connection's strand and holds no thread while it waits.
asio::awaitable<std::optional<gateway::ScreenText>> watch(std::shared_ptr<gateway::Session> session, std::string needle,
                                                          std::chrono::milliseconds timeout,
                                                          asio::any_io_executor reader) {
  auto strand = co_await asio::this_coro::executor;
  auto waiting = std::make_shared<Waiting>(strand);
  waiting->waiter->needle = std::move(needle);
  // From the reader's thread: the timer is the strand's, so it is cancelled there.
  waiting->waiter->wake = [w = std::weak_ptr<Waiting>(waiting)] {
    if (auto alive = w.lock()) asio::post(alive->timer.get_executor(), [alive] { alive->timer.cancel(); });
  };
  waiting->timer.expires_after(timeout);
  session->watch_text(waiting->waiter, reader);
  auto wait = waiting->timer.async_wait(asio::as_tuple(asio::use_awaitable));
  co_await std::move(wait);
  std::lock_guard lock(waiting->waiter->mutex);
  waiting->waiter->settled = true;  // a reading after this is not for us
  co_return waiting->waiter->result;
}

// GET .../text: the next reading of the current picture (a session still connecting has none to give).
asio::awaitable<HttpResponse> read_text(std::shared_ptr<gateway::Session> session, asio::any_io_executor reader) {
  std::string any;
  auto watching = watch(session, std::move(any), std::chrono::seconds(10), reader);
  auto screen = co_await std::move(watching);
  if (!screen) co_return json_error(409, "no_picture", "the session has no picture yet");
  if (screen->closed) co_return json_error(404, "not_found", "the session has closed");
  if (!screen->is_text) co_return not_text();
  co_return json_response(200, screen_json(*screen).dump(-1, ' ', false, json::error_handler_t::replace));
}

// POST .../wait: 200 with the screen once `needle` is on it, 408 at the timeout.
asio::awaitable<HttpResponse> wait_for_text(std::shared_ptr<gateway::Session> session, std::string needle,
                                            std::chrono::milliseconds timeout, asio::any_io_executor reader) {
  const auto started = std::chrono::steady_clock::now();
  auto watching = watch(session, std::move(needle), timeout, reader);
  auto screen = co_await std::move(watching);
  if (!screen)
    co_return json_error(408, "timeout",
                         fmt::format("the text did not appear within {:g} s", timeout.count() / 1000.0));
  if (screen->closed) co_return json_error(404, "not_found", "the session closed while waiting");
  auto out = screen_json(*screen);
  out["waited_s"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  co_return json_response(200, out.dump(-1, ' ', false, json::error_handler_t::replace));
}

std::shared_ptr<gateway::Session> find_session(gateway::SessionManager& sessions, const HttpRequest& request) {
  const auto& id = request.params.at("id");
  if (id.empty() || id.size() > 64) return nullptr;
  return sessions.find(id);
}

std::optional<std::int64_t> parse_time(const std::string& text) {
  auto t = providers::openstack::parse_iso8601(text);
  if (!t) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch()).count();
}

HttpResponse search(jobs::JobStore& store, const HttpRequest& request) {
  jobs::SearchQuery query;
  auto q = request.query.find("q");
  if (q == request.query.end() || q->second.empty()) return json_error(400, "missing_field", "q is required");
  query.words = q->second;
  if (auto it = request.query.find("server"); it != request.query.end() && !it->second.empty()) {
    if (it->second.size() > 1024) return json_error(400, "invalid_field", "server is too long");
    query.server = it->second;
  }
  for (const char* name : {"from", "to"}) {
    auto it = request.query.find(name);
    if (it == request.query.end() || it->second.empty()) continue;
    auto t = parse_time(it->second);
    if (!t)
      return json_error(400, "invalid_field", std::string(name) + " must be a UTC time like 2026-12-03T17:00:00Z");
    (std::string(name) == "from" ? query.from_unix_ms : query.to_unix_ms) = *t;
  }
  if (auto it = request.query.find("limit"); it != request.query.end()) {
    int limit = 0;
    const auto& v = it->second;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), limit);
    if (ec != std::errc() || end != v.data() + v.size() || limit < 1 || limit > jobs::kMaxSearchLimit)
      return json_error(400, "invalid_field",
                        "limit must be a whole number from 1 to " + std::to_string(jobs::kMaxSearchLimit));
    query.limit = limit;
  }
  if (auto it = request.query.find("cursor"); it != request.query.end() && !it->second.empty())
    query.cursor = it->second;
  const auto page = store.search(query);  // UsageError (400) for a query it refuses
  json hits = json::array();
  for (const auto& h : page.hits) {
    const std::string recording = "/api/v1/recordings/" + h.job_id;
    const auto segment = recording + "/segments/" + std::to_string(h.segment);
    const auto ms = std::max<std::int64_t>(0, h.t_ms);
    auto millis = std::to_string(ms % 1000);
    millis.insert(0, 3 - millis.size(), '0');
    hits.push_back({{"recording_id", h.job_id},
                    {"server", h.server},
                    {"segment", h.segment},
                    {"offset_s", h.t_ms / 1000.0},
                    {"at", iso8601_ms(h.at_unix_ms)},
                    {"line", h.line},
                    {"segment_url", segment},
                    {"frame_url", segment + "/frame?t=" + std::to_string(ms / 1000) + "." + millis},
                    {"transcript_url", segment + "/transcript"}});
  }
  json out = {{"hits", hits}};
  out["next_cursor"] = page.next_cursor ? json(*page.next_cursor) : json(nullptr);
  return json_response(200, out.dump(-1, ' ', false, json::error_handler_t::replace));
}

}  // namespace

void add_text_routes(Router& router, gateway::SessionManager& sessions, jobs::JobStore& store,
                     asio::any_io_executor reader) {
  router.add("GET", "/api/v1/sessions/{id}/text", [&sessions, reader](const HttpRequest& request) {
    auto session = find_session(sessions, request);
    if (!session) return json_error(404, "not_found", "no such session");
    HttpResponse r;
    r.deferred = [session, reader] { return read_text(session, reader); };
    return r;
  });

  router.add("POST", "/api/v1/sessions/{id}/wait", [&sessions, reader](const HttpRequest& request) {
    auto session = find_session(sessions, request);
    if (!session) return json_error(404, "not_found", "no such session");
    // (A body declared as anything but application/json was refused by the RequestGuard: 415.)
    const json body = json::parse(request.body, nullptr, false);
    if (body.is_discarded()) return json_error(400, "malformed_json", "the request body is not valid JSON");
    if (!body.is_object()) return json_error(400, "invalid_body", "the request body must be a JSON object");
    auto text = body.find("text");
    if (text == body.end() || !text->is_string() || text->get<std::string>().empty() ||
        text->get<std::string>().size() > kMaxNeedleBytes)
      return json_error(400, "invalid_field", "text must be a non-empty string of at most 256 bytes");
    double timeout_s = 60;
    if (auto it = body.find("timeout"); it != body.end() && !it->is_null()) {
      if (!it->is_number() || it->get<double>() <= 0 || it->get<double>() > kMaxWaitSeconds)
        return json_error(400, "invalid_field", "timeout must be a number of seconds, more than 0 and at most 3600");
      timeout_s = it->get<double>();
    }
    HttpResponse r;
    const auto timeout = std::chrono::milliseconds(static_cast<std::int64_t>(timeout_s * 1000));
    r.deferred = [session, reader, needle = text->get<std::string>(), timeout] {
      return wait_for_text(session, needle, timeout, reader);
    };
    return r;
  });

  router.add("GET", "/api/v1/search", [&store](const HttpRequest& request) { return search(store, request); });
}

}  // namespace vncgate::service
