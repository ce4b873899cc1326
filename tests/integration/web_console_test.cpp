// SPDX-License-Identifier: Apache-2.0
// The console page (web/console.html + vendored noVNC) in Debian's chromium, driven by tests/web/console_check.mjs,
// against a QEMU guest behind websockify, which also serves the built web root (before `vncgate serve` exists,
// this proves the page and the harness). Pixels are checked against QEMU's own framebuffer (QMP screendump).
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "support/browser.hpp"
#include "support/image.hpp"
#include "support/qemu.hpp"
#include "support/websockify.hpp"

namespace vncgate::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// One guest (static test pattern) behind one websockify for the whole binary: "tok1" reaches the guest, "down"
// a port nobody listens on.
struct Peers {
  std::unique_ptr<QemuGuest> guest;
  std::unique_ptr<Websockify> proxy;
  std::string error;
};

Peers& peers() {
  static Peers p = [] {
    Peers q;
    try {
      q.guest = std::make_unique<QemuGuest>(QemuOptions{.mode = "static"});
      q.proxy =
          std::make_unique<Websockify>(Websockify::Tokens{{"tok1", "127.0.0.1:" + std::to_string(q.guest->port())},
                                                          {"down", "127.0.0.1:" + std::to_string(free_port())}},
                                       VNCGATE_WEB_ROOT);
    } catch (const std::exception& e) {
      q.error = e.what();
    }
    return q;
  }();
  return p;
}

class ConsolePage : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!peers().proxy) GTEST_FAIL() << "peers did not start: " << peers().error;
  }

  // The console page with its WebSocket pointed at websockify's token path (the gateway's is /ws/{token}).
  static std::string page_url(const std::string& ws_path, const std::string& extra_query = "") {
    return peers().proxy->http_url("/console.html?ws_path=" + ws_path + extra_query);
  }

  BrowserResult check(const std::vector<std::string>& args) {
    BrowserResult r = run_browser_check("console_check.mjs", args, dir_.path());
    report_ = r.report.empty() ? json::object() : json::parse(r.report, nullptr, false);
    return r;
  }
  std::string text(const char* key) const {
    return report_.is_object() && report_.contains(key) && report_[key].is_string() ? report_[key].get<std::string>()
                                                                                    : "";
  }

  TempDir dir_{"vncgate-web-console"};
  json report_;
};

// The canvas (native size, exact pixels via toDataURL) equals QEMU's framebuffer.
TEST_F(ConsolePage, Canvas_MatchesScreendump) {
  const std::string png = dir_.file("canvas.png");
  const BrowserResult r = check({"--url", page_url("/%3Ftoken%3Dtok1"), "--out", png});
  ASSERT_EQ(r.exit_code, kBrowserOk) << r.log;
  EXPECT_EQ(text("state"), "connected");
  EXPECT_EQ(text("status"), "Connected");
  EXPECT_EQ(report_.value("view_only_badge", true), false);
  const PixelBuffer canvas = load_png(png);
  const PixelBuffer oracle = peers().guest->screendump();
  const std::string diff = diff_summary(oracle, canvas, kMaskExact);
  if (!diff.empty()) save_ppm(oracle, dir_.file("oracle.ppm"));
  EXPECT_EQ(diff, "") << "canvas " << png << " vs QMP screendump";
}

// Keys typed into the page reach the guest: its console echoes them, the screendump changes, and the page
// shows the same new screen.
TEST_F(ConsolePage, Typing_ReachesGuest) {
  const PixelBuffer before = peers().guest->screendump();
  const std::string after_png = dir_.file("after.png");
  const BrowserResult r =
      check({"--url", page_url("/%3Ftoken%3Dtok1"), "--type", "vncgate typed\\n", "--out-after", after_png});
  ASSERT_EQ(r.exit_code, kBrowserOk) << r.log;
  EXPECT_EQ(report_.value("changed_after_type", false), true) << r.report;
  const PixelBuffer after = peers().guest->screendump();
  EXPECT_NE(diff_summary(before, after), "") << "the guest's screen did not change after typing";
  EXPECT_EQ(diff_summary(after, load_png(after_png)), "") << "page after typing vs QMP screendump";
}

// view_only=1: the badge shows, and noVNC sends no input (the gateway enforces this too; here the page's part).
TEST_F(ConsolePage, ViewOnly_ShowsBadgeAndSendsNoKeys) {
  const PixelBuffer before = peers().guest->screendump();
  const BrowserResult r = check({"--url", page_url("/%3Ftoken%3Dtok1", "&view_only=1"), "--type", "ignored\\n"});
  ASSERT_EQ(r.exit_code, kBrowserOk) << r.log;
  EXPECT_EQ(report_.value("view_only_badge", false), true) << r.report;
  EXPECT_EQ(report_.value("changed_after_type", true), false) << r.report;
  EXPECT_EQ(diff_summary(before, peers().guest->screendump()), "") << "a view-only page changed the guest's screen";
}

// websockify drops an unknown token during the handshake: exit 3, and the page says it was refused.
TEST_F(ConsolePage, UnknownToken_ReportsRefused) {
  const BrowserResult r = check({"--url", page_url("/%3Ftoken%3Dnosuchtoken"), "--timeout-ms", "15000"});
  EXPECT_EQ(r.exit_code, kBrowserRefused) << r.log;
  EXPECT_NE(text("reason").find("refused"), std::string::npos) << r.report;
  EXPECT_EQ(text("state"), "disconnected") << r.report;
}

// The WebSocket opens, then the target is unreachable (websockify closes with 1011): exit 3 with a reason.
TEST_F(ConsolePage, TargetDown_ReportsDisconnect) {
  const BrowserResult r = check({"--url", page_url("/%3Ftoken%3Ddown"), "--timeout-ms", "15000"});
  EXPECT_EQ(r.exit_code, kBrowserRefused) << r.log;
  EXPECT_NE(text("reason").find("code 1011"), std::string::npos) << r.report;
}

// ws_path may only name a path on the page's own server; a host reference is refused before connecting.
TEST_F(ConsolePage, ForeignWsPath_Refused) {
  for (const std::string path : {"%2F%2Fevil.example%2Fws", "%2F%5Cevil.example%2Fws", "ws%3A%2F%2Fevil.example%2F"}) {
    const BrowserResult r = check({"--url", page_url(path), "--timeout-ms", "10000"});
    EXPECT_EQ(r.exit_code, kBrowserRefused) << path << "\n" << r.log;
    EXPECT_NE(text("reason").find("ws_path"), std::string::npos) << path << "\n" << r.report;
  }
}

// Two pages on one console at once (one view-only) both show the guest's screen, and both report the end when
// the proxy goes away: the harness for "closing a session closes all its viewers".
TEST_F(ConsolePage, TwoViewers_SeeTheScreenAndTheServerClosing) {
  auto proxy = std::make_unique<Websockify>(
      Websockify::Tokens{{"tok1", "127.0.0.1:" + std::to_string(peers().guest->port())}}, VNCGATE_WEB_ROOT);
  const std::string url = proxy->http_url("/console.html?ws_path=/%3Ftoken%3Dtok1");
  const std::string a_png = dir_.file("viewer-a.png");
  const std::string b_png = dir_.file("viewer-b.png");
  BrowserRun a("console_check.mjs", {"--url", url + "&view_only=1", "--out", a_png, "--expect-disconnect-ms", "20000"},
               dir_.path());
  BrowserRun b("console_check.mjs", {"--url", url, "--out", b_png, "--expect-disconnect-ms", "20000"}, dir_.path());
  ASSERT_TRUE(a.wait_ready(40s)) << a.finish(1s).log;
  ASSERT_TRUE(b.wait_ready(40s)) << b.finish(1s).log;
  const PixelBuffer oracle = peers().guest->screendump();
  EXPECT_EQ(diff_summary(oracle, load_png(a_png)), "") << "view-only viewer vs QMP screendump";
  EXPECT_EQ(diff_summary(oracle, load_png(b_png)), "") << "interactive viewer vs QMP screendump";

  proxy.reset();  // stops websockify: both WebSockets close
  for (BrowserRun* run : {&a, &b}) {
    const BrowserResult r = run->finish(30s);
    EXPECT_EQ(r.exit_code, kBrowserOk) << r.log;
    const json report = json::parse(r.report, nullptr, false);
    ASSERT_TRUE(report.is_object()) << r.log;
    EXPECT_EQ(report.value("state", ""), "disconnected") << r.report;
    EXPECT_NE(report.value("reason", ""), "") << r.report;
  }
}

}  // namespace
}  // namespace vncgate::test
