// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for what an HTTP client controls in `vncgate serve`: the request as the server parses it
// (Beast's parser with the server's limits, then to_http_request), the request guard (Host, proxy headers,
// CSRF) and the router, then the JSON bodies of POST /record and POST /api/v1/sessions through their parsers.
// The input is an HTTP request; when it does not parse as one, it is used as a JSON body directly. Checked
// invariant: whatever a parser accepts is inside the documented ranges (docs/openapi.yaml).
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "service/job_request.hpp"
#include "service/request_guard.hpp"
#include "service/sessions_api.hpp"

namespace {

using namespace vncgate;
namespace bhttp = boost::beast::http;

[[noreturn]] void fail(const char* what, const std::string& input) {
  std::fprintf(stderr, "%s accepted out of range: %s\n", what, input.c_str());
  std::abort();
}

const service::ServiceSettings& settings() {
  static const service::ServiceSettings s = [] {
    service::ServiceSettings out;
    out.targets.named["demo"] = "vnc://192.0.2.1:5900";
    out.targets.default_provider = "direct";  // no provider environment in a fuzzer
    return out;
  }();
  return s;
}

const service::RequestGuard& guard() {
  static const service::RequestGuard g = [] {
    service::ServerOptions options;
    options.allow_no_auth = true;
    options.allowed_hosts = {"gw.example.test"};
    service::RequestGuard out(options);
    out.set_port(8090);
    return out;
  }();
  return g;
}

const service::Router& router() {
  static const service::Router r = [] {
    service::Router out;
    const service::Handler none = [](const service::HttpRequest&) { return service::HttpResponse{}; };
    for (const char* pattern : {"/record", "/api/v1/recordings", "/api/v1/sessions", "/api/v1/sessions/{id}/links"})
      out.add("POST", pattern, none);
    for (const char* pattern :
         {"/api/v1/recordings/{id}", "/api/v1/recordings/{id}/segments/{index}", "/api/v1/sessions/{id}", "/healthz"})
      out.add("GET", pattern, none, true);
    out.add_upgrade("/ws/{token}",
                    [](service::UpgradeConnection, service::UpgradeRequest, const service::HttpRequest&) {});
    return out;
  }();
  return r;
}

void check_bodies(const std::string& body) {
  const auto job = service::parse_job_request(body, settings());
  if (const auto* j = std::get_if<jobs::NewJob>(&job)) {
    if (j->duration_s < 1 || j->duration_s > settings().jobs.max_duration_s) fail("duration", body);
    if (j->count < 1 || j->count > settings().jobs.max_count) fail("count", body);
    const auto& o = j->encoder_options;
    if (o.contains("fps") && (!o.at("fps").is_number_integer() || o.at("fps") < 1 || o.at("fps") > 60))
      fail("fps", body);
    for (const char* size : {"width", "height"})
      if (o.contains(size) && (o.at(size) < 16 || o.at(size) > 8192 || o.at(size).get<int>() % 2 != 0))
        fail(size, body);
  }
  const auto session = service::parse_session_request(body);
  if (const auto* s = std::get_if<service::SessionRequest>(&session)) {
    if (s->target.empty() || s->target.size() > 1024) fail("target", body);
    if (s->ttl && (s->ttl->count() < 1 || s->ttl->count() > 86400)) fail("ttl", body);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  bhttp::request_parser<bhttp::string_body> parser;  // the limits of service/http_server.cpp
  parser.body_limit(1 << 20);
  parser.header_limit(16 * 1024);
  parser.eager(true);
  boost::beast::error_code ec;
  std::size_t used = 0;
  while (!ec && used < input.size() && !parser.is_done())
    used += parser.put(boost::asio::buffer(input.data() + used, input.size() - used), ec);
  if (ec || !parser.is_done()) {
    check_bodies(input);
    return 0;
  }
  const auto request = service::to_http_request(parser.get());
  const bool upgrade = boost::beast::websocket::is_upgrade(parser.get());
  (void)guard().check(request, upgrade);
  (void)router().match(request.method, request.path);
  check_bodies(request.body);
  return 0;
}
