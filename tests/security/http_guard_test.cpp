// SPDX-License-Identifier: Apache-2.0
// The audit's findings on the HTTP front door, attacked on a live `vncgate serve`: DNS rebinding (a foreign Host,
// origins taken from the request), no-key mode behind a proxy, CSRF through simple requests, and unbounded
// metric labels from invented methods.
#include <gtest/gtest.h>

#include <chrono>

#include "attack.hpp"
#include "service_fixture.hpp"

namespace vncgate::test {
namespace {

using nlohmann::json;

class HttpGuardTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("vncgate-security-guard");
    serve_ = new ServeProcess(
        ServeOptions{.data_dir = dir_->path(), .extra_args = {"--set", "server.allowed_hosts=gw.example.test"}});
    serve_->start();
  }
  static void TearDownTestSuite() {
    delete serve_;
    delete dir_;
  }
  static std::string own_host() { return "127.0.0.1:" + std::to_string(serve_->port()); }
  static RawResponse send(const std::string& method, const std::string& path, const std::string& host,
                          const std::string& headers = {}, const std::string& body = {}) {
    return raw_http(serve_->port(), http_text(method, path, host, headers, body));
  }
  static std::string upgrade_headers(const std::string& origin) {
    return "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: " +
           origin + "\r\n";
  }
  static std::string error_code(const RawResponse& r) {
    auto body = json::parse(r.body, nullptr, false);
    return body.is_discarded() ? "" : body["error"].value("code", "");
  }

  static inline TempDir* dir_ = nullptr;
  static inline ServeProcess* serve_ = nullptr;
};

// A page on rebind.evil.test whose name now resolves to 127.0.0.1 sends its own name as Host (and Origin).
TEST_F(HttpGuardTest, DnsRebinding_ForeignHostIsRefusedEverywhere) {
  const std::string evil = "rebind.evil.test:" + std::to_string(serve_->port());
  const std::string evil_origin = "Origin: http://" + evil + "\r\n";
  const std::string json_type = "Content-Type: application/json\r\n";
  EXPECT_EQ(send("GET", "/api/v1/recordings", evil).status, 421);
  EXPECT_EQ(send("GET", "/api/v1/sessions", evil, evil_origin).status, 421);
  auto created = send("POST", "/api/v1/sessions", evil, evil_origin + json_type, R"({"target":"vnc://127.0.0.1:1"})");
  EXPECT_EQ(created.status, 421) << created.body;
  EXPECT_EQ(error_code(created), "misdirected_request");
  EXPECT_EQ(send("GET", "/ws/some-token", evil, upgrade_headers("http://" + evil)).status, 421);
  EXPECT_EQ(send("GET", "/", evil).status, 421) << "the dashboard too";
  // The names this server is reached by still work.
  for (const std::string& host :
       {own_host(), "localhost:" + std::to_string(serve_->port()), "[::1]:" + std::to_string(serve_->port()),
        std::string("gw.example.test"), std::string("GW.Example.Test.:443")})
    EXPECT_EQ(send("GET", "/api/v1/recordings", host).status, 200) << host;
}

// Console origins come from the configuration: the request's Host does not make its Origin acceptable.
TEST_F(HttpGuardTest, ConsoleOriginsComeFromConfigurationOnly) {
  const std::string port = std::to_string(serve_->port());
  EXPECT_EQ(send("GET", "/ws/some-token", own_host(), upgrade_headers("http://rebind.evil.test:" + port)).status, 403);
  EXPECT_EQ(send("GET", "/ws/some-token", own_host(), upgrade_headers("null")).status, 403);
  EXPECT_EQ(send("GET", "/ws/some-token", own_host(), upgrade_headers("http://127.0.0.1:1")).status, 403)
      << "another port of this host is another origin";
  // An allowed origin passes the guard and reaches the token check (410: no such link).
  EXPECT_EQ(send("GET", "/ws/some-token", "gw.example.test", upgrade_headers("https://gw.example.test:" + port)).status,
            410);
  EXPECT_EQ(send("GET", "/ws/some-token", own_host(), upgrade_headers("http://" + own_host())).status, 410);
}

TEST_F(HttpGuardTest, NoKeyMode_RefusesRequestsThroughAProxy) {
  for (const std::string header :
       {"X-Forwarded-For: 203.0.113.9", "Forwarded: for=203.0.113.9", "Via: 1.1 nginx", "X-Forwarded-Proto: https"}) {
    for (const std::string path : {"/api/v1/recordings", "/healthz", "/"}) {
      auto r = send("GET", path, own_host(), header + "\r\n");
      EXPECT_EQ(r.status, 403) << header << " " << path;
      EXPECT_EQ(error_code(r), "proxy_needs_api_keys") << r.body;
      EXPECT_NE(r.body.find("server.api_keys"), std::string::npos) << r.body;
    }
  }
  EXPECT_NE(read_file(dir_->file("serve-1.log")).find("no API keys (server.allow_no_auth)"), std::string::npos)
      << "no-key mode is logged";
}

TEST(HttpGuard, NoKeyMode_IsAnExplicitChoice_AndKeysWorkBehindAProxy) {
  TempDir dir("vncgate-security-keys");
  ServeProcess without_choice(ServeOptions{.data_dir = dir.path(), .allow_no_auth = false});
  const auto before = std::chrono::steady_clock::now();
  EXPECT_THROW(without_choice.start(), std::runtime_error);
  // A refused start exits at once (the shutdown used to wait 30 s for an io_context nobody ran).
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(10));
  EXPECT_NE(without_choice.log_tail().find("server.allow_no_auth"), std::string::npos) << without_choice.log_tail();

  ServeProcess keyed(ServeOptions{
      .data_dir = dir.path(), .extra_args = {"--set", "server.api_keys=sekrit-key-0123"}, .allow_no_auth = false});
  keyed.start();
  const std::string host = "127.0.0.1:" + std::to_string(keyed.port());
  auto proxied = [&](const std::string& auth) {
    return raw_http(keyed.port(), http_text("GET", "/api/v1/recordings", host,
                                            "X-Forwarded-For: 203.0.113.9\r\nVia: 1.1 nginx\r\n" + auth))
        .status;
  };
  EXPECT_EQ(proxied("Authorization: Bearer sekrit-key-0123\r\n"), 200);
  EXPECT_EQ(proxied(""), 401);
}

// A cross-site page can send "simple" requests without a CORS preflight: text/plain or form bodies, any Origin.
TEST_F(HttpGuardTest, Csrf_SimpleAndCrossSiteRequestsAreRefused) {
  const std::string job = R"({"server":"vnc://127.0.0.1:1","provider":"direct","duration":1,"count":1})";
  const std::string session = R"({"target":"vnc://127.0.0.1:1"})";
  for (const std::string type : {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"})
    for (const auto& [path, body] :
         {std::pair{"/record", job}, {"/api/v1/recordings", job}, {"/api/v1/sessions", session}}) {
      auto r = send("POST", path, own_host(), "Content-Type: " + type + "\r\n", body);
      EXPECT_EQ(r.status, 415) << type << " " << path << ": " << r.body;
    }
  const std::string json_type = "Content-Type: application/json\r\n";
  auto foreign = send("POST", "/api/v1/sessions", own_host(), json_type + "Origin: https://evil.test\r\n", session);
  EXPECT_EQ(foreign.status, 403);
  EXPECT_EQ(error_code(foreign), "forbidden_origin");
  auto cross = send("POST", "/record", own_host(), json_type + "Sec-Fetch-Site: cross-site\r\n", job);
  EXPECT_EQ(cross.status, 403);
  EXPECT_EQ(error_code(cross), "cross_site");
  EXPECT_EQ(send("DELETE", "/api/v1/sessions", own_host(), "Origin: https://evil.test\r\n").status, 403);
  EXPECT_TRUE(serve_->json("GET", "/api/v1/recordings").at("recordings").empty()) << "no job was created";
  EXPECT_TRUE(serve_->json("GET", "/api/v1/sessions").at("sessions").empty()) << "no session was created";
  // The dashboard's own requests (same origin, application/json) pass the guard.
  auto own = send("POST", "/api/v1/sessions", own_host(),
                  json_type + "Origin: http://" + own_host() + "\r\nSec-Fetch-Site: same-origin\r\n",
                  R"({"target":"nosuch"})");
  EXPECT_EQ(own.status, 404) << own.body;
}

// Each invented method used to become a metric series of its own (20 000 methods → a 161 MB /metrics).
TEST_F(HttpGuardTest, InventedMethodsDoNotGrowTheMetrics) {
  const auto before = serve_->request("GET", "/metrics").body.size();
  for (int i = 0; i < 300; ++i) send("XMETHOD" + std::to_string(i), "/api/v1/recordings", own_host());
  const auto metrics = serve_->request("GET", "/metrics").body;
  EXPECT_EQ(metrics.find("XMETHOD"), std::string::npos);
  EXPECT_NE(metrics.find("method=\"other\""), std::string::npos);
  EXPECT_LT(metrics.size(), before + 2000) << "a bounded number of series";
}

}  // namespace
}  // namespace vncgate::test
