// SPDX-License-Identifier: Apache-2.0
// Live consoles through `vncgate serve`, in Debian's chromium (tests/web/console_check.mjs): a one-time link
// from POST /api/v1/sessions opens the bundled noVNC page, whose canvas equals QEMU's own framebuffer (QMP
// screendump); typing reaches the guest; a second, view-only viewer of the same session sees the same screen and
// its keys are dropped by the server; a used or expired link is refused; a foreign Origin is refused without
// burning the link; closing the session closes both viewers.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <thread>

#include "rfb/blocking_client.hpp"
#include "service_fixture.hpp"
#include "support/browser.hpp"
#include "support/image.hpp"
#include "support/qemu.hpp"

namespace vncgate::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

class WebGatewayTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    guest_ = new QemuGuest(QemuOptions{.mode = "input"});
    dir_ = new TempDir("vncgate-web-gateway");
    serve_ = new ServeProcess(ServeOptions{.data_dir = dir_->path(), .targets = {"demo=" + guest_->vnc_url()}});
    serve_->start();
  }
  static void TearDownTestSuite() {
    delete serve_;
    delete dir_;
    delete guest_;
  }
  void TearDown() override { serve_->request("DELETE", "/api/v1/sessions"); }

  static json link(const std::string& body) { return serve_->json("POST", "/api/v1/sessions", body, 201); }
  BrowserResult check(const std::vector<std::string>& args) {
    auto r = run_browser_check("console_check.mjs", args, dir_->path());
    report_ = r.report.empty() ? json::object() : json::parse(r.report, nullptr, false);
    return r;
  }
  // The status line of a plain-HTTP WebSocket upgrade to `path` with `origin`.
  static std::string upgrade_status(const std::string& path, const std::string& origin) {
    return test::upgrade_status(serve_->port(), path, "Origin: " + origin + "\r\n");
  }

  static inline QemuGuest* guest_ = nullptr;
  static inline TempDir* dir_ = nullptr;
  static inline ServeProcess* serve_ = nullptr;
  json report_;
};

TEST_F(WebGatewayTest, ConsoleLinkShowsTheGuestAndTypingReachesIt) {
  auto created = link(R"({"target": "demo"})");
  const std::string url = serve_->url(created.at("url"));
  EXPECT_EQ(created.at("url").get<std::string>().rfind("/console/", 0), 0u);
  EXPECT_EQ(created.dump().find(guest_->vnc_url()), std::string::npos) << "no upstream address in the answer";

  const auto before = guest_->screendump();
  const std::string png = dir_->file("canvas.png"), after_png = dir_->file("after.png");
  const auto r = check({"--url", url, "--out", png, "--type", "gateway typed\\n", "--out-after", after_png});
  ASSERT_EQ(r.exit_code, kBrowserOk) << r.log << "\n" << serve_->log_tail();
  EXPECT_EQ(diff_summary(before, load_png(png), kMaskExact), "") << "canvas vs QMP screendump";
  EXPECT_NE(diff_summary(before, guest_->screendump()), "") << "typing did not reach the guest";
  // The guest's cursor blinks: one of the screendumps within a blink period shows the page's phase.
  const auto page_after = load_png(after_png);
  std::string diff;
  for (int i = 0; i < 20; ++i, std::this_thread::sleep_for(100ms))
    if ((diff = diff_summary(guest_->screendump(), page_after)).empty()) break;
  EXPECT_EQ(diff, "") << "page after typing vs QMP screendump";

  // The link was burned by the first WebSocket: the same URL again is refused.
  const auto again = check({"--url", url, "--timeout-ms", "15000"});
  EXPECT_EQ(again.exit_code, kBrowserRefused) << again.log;
}

TEST_F(WebGatewayTest, ViewOnlyViewerSharesTheScreenButCannotType) {
  auto interactive = link(R"({"target": "demo"})");
  auto view_only =
      serve_->json("POST", "/api/v1/sessions/" + interactive.at("session_id").get<std::string>() + "/links",
                   R"({"view_only": true})", 201);
  EXPECT_EQ(view_only.at("session_id"), interactive.at("session_id")) << "one session, one upstream";
  const std::string a_png = dir_->file("viewer-a.png"), b_png = dir_->file("viewer-b.png");
  BrowserRun a("console_check.mjs",
               {"--url", serve_->url(interactive.at("url")), "--out", a_png, "--expect-disconnect-ms", "30000"},
               dir_->path());
  ASSERT_TRUE(a.wait_ready(40s)) << a.finish(1s).log;
  const auto before = guest_->screendump();
  // The view-only page types: nothing reaches the guest.
  const auto r = check({"--url", serve_->url(view_only.at("url")), "--out", b_png, "--type", "ignored\\n"});
  ASSERT_EQ(r.exit_code, kBrowserOk) << r.log;
  EXPECT_EQ(report_.value("view_only_badge", false), true) << r.report;
  EXPECT_EQ(diff_summary(before, load_png(b_png)), "") << "view-only viewer vs QMP screendump";
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(diff_summary(before, guest_->screendump()), "") << "a view-only viewer changed the guest's screen";
  EXPECT_EQ(diff_summary(before, load_png(a_png)), "") << "interactive viewer vs QMP screendump";

  auto info = serve_->json("GET", "/api/v1/sessions/" + interactive.at("session_id").get<std::string>());
  EXPECT_GE(info.at("total_connections").get<int>(), 2);
  // Closing the session ends the viewer still open.
  EXPECT_EQ(serve_->request("DELETE", "/api/v1/sessions/" + interactive.at("session_id").get<std::string>()).status,
            204);
  const auto ended = a.finish(30s);
  EXPECT_EQ(ended.exit_code, kBrowserOk) << ended.log;
  EXPECT_EQ(json::parse(ended.report, nullptr, false).value("state", ""), "disconnected") << ended.report;
}

TEST_F(WebGatewayTest, ExpiredAndForeignOriginLinksAreRefused) {
  auto expiring = link(R"({"target": "demo", "ttl": 1})");
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(check({"--url", serve_->url(expiring.at("url")), "--timeout-ms", "15000"}).exit_code, kBrowserRefused);

  auto fresh = link(R"({"target": "demo"})");
  const std::string token = fresh.at("url").get<std::string>().substr(std::string("/console/").size());
  EXPECT_EQ(upgrade_status("/ws/" + token, "http://evil.example"), "403");
  // The foreign attempt did not burn the link: the real page still opens it.
  const auto r = check({"--url", serve_->url(fresh.at("url"))});
  EXPECT_EQ(r.exit_code, kBrowserOk) << r.log;
  EXPECT_EQ(upgrade_status("/ws/" + token, "http://127.0.0.1:" + std::to_string(serve_->port())), "410") << "used once";
  EXPECT_EQ(upgrade_status("/ws/not-a-token", "http://127.0.0.1:" + std::to_string(serve_->port())), "410");
}

TEST_F(WebGatewayTest, SessionsApiListsCountsAndRejectsBadInput) {
  auto first = link(R"({"target": "demo"})");
  auto second = link(R"({"target": "demo", "view_only": true})");
  EXPECT_EQ(first.at("session_id"), second.at("session_id")) << "reused per target";
  auto list = serve_->json("GET", "/api/v1/sessions");
  ASSERT_EQ(list.at("sessions").size(), 1u);
  const auto label = list.at("sessions")[0].at("target").get<std::string>();
  EXPECT_NE(label.find("127.0.0.1"), std::string::npos) << label;
  auto metrics = serve_->request("GET", "/metrics").body;
  EXPECT_NE(metrics.find("vncgate_sessions 1"), std::string::npos) << metrics;

  for (auto [body, status, code] : {std::tuple{"{", 400, "malformed_json"}, std::tuple{"{}", 400, "missing_field"},
                                    std::tuple{R"({"target": 5})", 400, "invalid_field"},
                                    std::tuple{R"({"target": "nosuch"})", 404, "unknown_target"},
                                    std::tuple{R"({"target": "demo", "ttl": 0})", 400, "invalid_field"},
                                    std::tuple{R"({"target": "demo", "view_only": "yes"})", 400, "invalid_field"}}) {
    auto response = serve_->request("POST", "/api/v1/sessions", body);
    EXPECT_EQ(response.status, status) << body << " → " << response.body;
    EXPECT_EQ(json::parse(response.body).at("error").at("code"), code) << body;
  }
  EXPECT_EQ(serve_->request("GET", "/api/v1/sessions/nosuch").status, 404);
  EXPECT_EQ(serve_->request("DELETE", "/api/v1/sessions/nosuch").status, 404);
  EXPECT_EQ(serve_->request("POST", "/api/v1/sessions/nosuch/links", "{}").status, 404);
  EXPECT_EQ(serve_->request("GET", "/ws/abc").status, 426) << "plain GET on the WebSocket endpoint";
  EXPECT_EQ(serve_->json("DELETE", "/api/v1/sessions").at("closed"), 1);
  EXPECT_TRUE(serve_->json("GET", "/api/v1/sessions").at("sessions").empty());
}

// With a certificate the same listener speaks HTTPS and wss://: the API over TLS, and a console link opened by
// our own RFB client over wss:// (no Origin: not a browser) shows QEMU's screen.
TEST_F(WebGatewayTest, TlsListenerServesTheApiAndWssConsoles) {
  TempDir tls_dir("vncgate-web-gateway-tls");
  ASSERT_EQ(run_command({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                         "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", tls_dir.file("key.pem"),
                         "-out", tls_dir.file("cert.pem")},
                        tls_dir.file("openssl.log")),
            0)
      << read_file(tls_dir.file("openssl.log"));
  ServeProcess tls_serve(ServeOptions{.data_dir = tls_dir.path(),
                                      .targets = {"demo=" + guest_->vnc_url()},
                                      .extra_args = {"--set", "server.tls_cert=" + tls_dir.file("cert.pem"), "--set",
                                                     "server.tls_key=" + tls_dir.file("key.pem")},
                                      .scheme = "https",
                                      .ca_file = tls_dir.file("cert.pem")});
  tls_serve.start();
  auto created = tls_serve.json("POST", "/api/v1/sessions", R"({"target": "demo"})", 201);
  const std::string token = created.at("url").get<std::string>().substr(std::string("/console/").size());

  io::Endpoint endpoint{.url = "wss://127.0.0.1:" + std::to_string(tls_serve.port()) + "/ws/" + token};
  endpoint.tls.ca_file = tls_dir.file("cert.pem");
  rfb::BlockingClient viewer(endpoint, rfb::ClientOptions{}, 20s);
  std::string diff;
  for (int i = 0; i < 20; ++i, std::this_thread::sleep_for(200ms)) {
    viewer.full_update(10s);
    if ((diff = diff_summary(guest_->screendump(), viewer.framebuffer())).empty()) break;
  }
  EXPECT_EQ(diff, "") << "wss:// viewer vs QMP screendump";
  // Plain HTTP to the TLS port gets nothing (no downgrade).
  EXPECT_THROW(ServeProcess::plain_get(tls_serve.port(), "/healthz"), std::exception);
}

}  // namespace
}  // namespace vncgate::test

namespace vncgate::test {
namespace {

// record: true keeps the session's FBS stream, MP4 segments and input audit log; when the session closes they go
// to storage under the session's bucket (listed in the session).
TEST_F(WebGatewayTest, RecordedSessionLandsInStorageWhenClosed) {
  auto created = link(R"({"target": "demo", "record": true})");
  const std::string id = created.at("session_id");
  const std::string token = created.at("url").get<std::string>().substr(std::string("/console/").size());
  const auto bucket = serve_->json("GET", "/api/v1/sessions/" + id).at("bucket_id").get<std::string>();
  {
    rfb::BlockingClient viewer(io::Endpoint{.url = "ws://127.0.0.1:" + std::to_string(serve_->port()) + "/ws/" + token},
                               rfb::ClientOptions{}, 20s);
    viewer.full_update(10s);
    viewer.connection().send_pointer(10, 10, 1);
    viewer.connection().send_pointer(10, 10, 0);
    viewer.pump(2s);
  }
  EXPECT_EQ(serve_->request("DELETE", "/api/v1/sessions/" + id).status, 204);
  const std::string dir = dir_->path() + "/recordings/" + bucket;
  bool complete = false;
  for (int i = 0; i < 100 && !complete; ++i, std::this_thread::sleep_for(200ms))
    complete = std::filesystem::exists(dir + "/recording.fbs") && std::filesystem::exists(dir + "/audit.jsonl") &&
               std::filesystem::exists(dir + "/video-001.mp4");
  ASSERT_TRUE(complete) << dir << "\n" << serve_->log_tail();
  EXPECT_NE(read_file(dir + "/audit.jsonl").find("pointer"), std::string::npos) << read_file(dir + "/audit.jsonl");
}

}  // namespace
}  // namespace vncgate::test
