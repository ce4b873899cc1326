// SPDX-License-Identifier: Apache-2.0
// Console text through `vncgate serve` (docs/text.md) against real QEMU guests and Xvnc:
// - live text of a session: GET /api/v1/sessions/{id}/text reads what the guest's shell printed (the keys typed
//   here are the oracle); POST .../wait answers once typed text is on screen, and not before; 408 at its timeout;
//   many waits at once hold no thread (other requests are answered meanwhile); a desktop is 409 not_text; bad
//   input gets its status;
// - search: a recording job of the tick guest is indexed as its segments are uploaded; GET /api/v1/search finds
//   each tick at the instant the guest's serial port printed it, with filters, pages and limits.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <regex>
#include <thread>

#include "service_fixture.hpp"
#include "support/image.hpp"
#include "support/line_stamper.hpp"
#include "support/media.hpp"
#include "support/qemu.hpp"
#include "support/xvnc.hpp"

namespace vncgate::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

class ServiceTextTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // no_timer_check: a starved TCG guest (a loaded machine) otherwise panics on its IO-APIC timer check.
    shell_ = new QemuGuest(QemuOptions{.mode = "shell", .extra_append = "no_timer_check", .boot_timeout = 300s});
    tick_ = new QemuGuest(QemuOptions{.mode = "tick", .extra_append = "no_timer_check", .boot_timeout = 300s});
    serial_ = new LineStamper(tick_->serial_path());
    desktop_ = new XvncServer();
    dir_ = new TempDir("vncgate-serve-text");
    serve_ = new ServeProcess(ServeOptions{
        .data_dir = dir_->path(),
        .targets = {"shell=" + shell_->vnc_url(), "tick=" + tick_->vnc_url(), "desktop=" + desktop_->vnc_url()}});
    serve_->start();
    shell_->type("nocursor\n");
  }
  static void TearDownTestSuite() {
    delete serve_;
    delete dir_;
    delete desktop_;
    delete serial_;
    delete tick_;
    delete shell_;
  }
  void TearDown() override { serve_->request("DELETE", "/api/v1/sessions"); }

  // A live session of `target` with no viewer attached: its id.
  static std::string session(const std::string& target) {
    return serve_->json("POST", "/api/v1/sessions", json{{"target", target}}.dump(), 201).at("session_id");
  }
  static http::Response wait(const std::string& id, const std::string& body) {
    return serve_->request("POST", "/api/v1/sessions/" + id + "/wait", body);  // as application/json
  }

  static inline QemuGuest *shell_ = nullptr, *tick_ = nullptr;
  static inline LineStamper* serial_ = nullptr;
  static inline XvncServer* desktop_ = nullptr;
  static inline TempDir* dir_ = nullptr;
  static inline ServeProcess* serve_ = nullptr;
};

TEST_F(ServiceTextTest, TextOfALiveSessionIsWhatTheShellPrinted) {
  const auto id = session("shell");
  shell_->type("echo live text 1\n");
  // The session has no viewer: reading it asks the console for pictures by itself.
  json screen;
  for (auto deadline = Clock::now() + 20s; Clock::now() < deadline; std::this_thread::sleep_for(200ms)) {
    auto r = serve_->request("GET", "/api/v1/sessions/" + id + "/text");
    if (r.status == 409) continue;  // no picture yet
    ASSERT_EQ(r.status, 200) << r.body;
    screen = json::parse(r.body);
    if (screen.at("text").get<std::string>().find("\nlive text 1\n") != std::string::npos) break;
  }
  ASSERT_TRUE(screen.is_object());
  const std::string text = screen.at("text");
  EXPECT_NE(text.find("# echo live text 1\nlive text 1\n#"), std::string::npos) << text;
  EXPECT_EQ(text.find("\xef\xbf\xbd"), std::string::npos) << "an unreadable cell:\n" << text;
  EXPECT_EQ(screen.at("columns"), 80);
  EXPECT_EQ(screen.at("rows"), 25);
  EXPECT_EQ(screen.at("lines").size(), 25u);
}

TEST_F(ServiceTextTest, WaitAnswersWhenTheTextAppearsAndNotBefore) {
  const auto id = session("shell");
  auto pending = std::async(std::launch::async, [&] {
    auto r = wait(id, R"({"text": "4711", "timeout": 60})");
    return std::pair{r, Clock::now()};
  });
  EXPECT_EQ(pending.wait_for(2s), std::future_status::timeout) << "answered before the text was typed";
  const auto typed = Clock::now();
  // The command line must not contain the text itself, or the wait could answer on the echo of the typing.
  shell_->type("seq 4710 4712\n");
  ASSERT_EQ(pending.wait_for(20s), std::future_status::ready);
  const auto [r, answered] = pending.get();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(json::parse(r.body).at("text").get<std::string>().find("\n4711\n"), std::string::npos) << r.body;
  EXPECT_LT(answered - typed, 5s);
  EXPECT_GE(json::parse(r.body).at("waited_s").get<double>(), 2.0);
}

TEST_F(ServiceTextTest, WaitTimesOutWith408AndHoldsNoThread) {
  const auto id = session("shell");
  // More waits than the blocking pool has threads (8): none holds one, so other requests still get answers.
  std::vector<std::future<http::Response>> waits;
  for (int i = 0; i < 20; ++i)
    waits.push_back(
        std::async(std::launch::async, [&] { return wait(id, R"({"text": "never here", "timeout": 3})"); }));
  std::this_thread::sleep_for(1s);
  const auto asked = Clock::now();
  EXPECT_EQ(serve_->request("GET", "/api/v1/sessions/" + id).status, 200);
  EXPECT_EQ(serve_->request("GET", "/api/v1/sessions/" + id + "/text").status, 200);
  EXPECT_LT(Clock::now() - asked, 1500ms) << "requests waited for the waiting ones";
  for (auto& w : waits) {
    const auto r = w.get();
    EXPECT_EQ(r.status, 408) << r.body;
    EXPECT_EQ(json::parse(r.body).at("error").at("code"), "timeout");
  }
}

TEST_F(ServiceTextTest, ADesktopIsNotText) {
  const auto id = session("desktop");
  http::Response r;
  for (auto deadline = Clock::now() + 20s; Clock::now() < deadline; std::this_thread::sleep_for(200ms)) {
    r = serve_->request("GET", "/api/v1/sessions/" + id + "/text");
    if (r.status != 409 || json::parse(r.body).at("error").at("code") != "no_picture") break;
  }
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(json::parse(r.body).at("error").at("code"), "not_text") << r.body;
}

TEST_F(ServiceTextTest, BadRequestsGetTheirStatus) {
  const auto id = session("shell");
  EXPECT_EQ(serve_->request("GET", "/api/v1/sessions/nosuch/text").status, 404);
  EXPECT_EQ(wait("nosuch", R"({"text": "x"})").status, 404);
  // (A body that is not application/json is refused by the RequestGuard for every route: tests/security.)
  EXPECT_EQ(wait(id, "{").status, 400);
  EXPECT_EQ(wait(id, "[]").status, 400);
  EXPECT_EQ(wait(id, R"({"timeout": 5})").status, 400);
  EXPECT_EQ(wait(id, R"({"text": ""})").status, 400);
  EXPECT_EQ(wait(id, R"({"text": 5})").status, 400);
  EXPECT_EQ(wait(id, json{{"text", std::string(257, 'a')}}.dump()).status, 400);
  EXPECT_EQ(wait(id, R"({"text": "x", "timeout": 0})").status, 400);
  EXPECT_EQ(wait(id, R"({"text": "x", "timeout": -1})").status, 400);
  EXPECT_EQ(wait(id, R"({"text": "x", "timeout": 3601})").status, 400);
  EXPECT_EQ(wait(id, R"({"text": "x", "timeout": "soon"})").status, 400);
  EXPECT_EQ(wait(id, std::string(2 << 20, ' ')).status, 413);
}

// A hit's frame_url is the segment's picture at offset_s: the frame ffmpeg (another program) decodes from the
// segment's MP4 whose timestamp ffprobe gives as the last one not after it.
void expect_frame_at_hit(ServeProcess& serve, const std::string& id, const json& hit) {
  const int segment = hit.at("segment");
  const double offset = hit.at("offset_s");
  const std::string frame_url = hit.at("frame_url");
  ASSERT_EQ(frame_url.rfind("/api/v1/recordings/" + id + "/segments/" + std::to_string(segment) + "/frame?t=", 0), 0u)
      << frame_url;
  TempDir dir("vncgate-frame");
  const auto mp4 = serve.request("GET", hit.at("segment_url").get<std::string>());
  ASSERT_EQ(mp4.status, 200);
  write_file(dir.file("segment.mp4"), mp4.body);
  const auto packets = probe_packets(dir.file("segment.mp4"));
  ASSERT_FALSE(packets.empty());
  std::vector<double> times;
  for (const auto& p : packets) times.push_back(p.pts);
  std::sort(times.begin(), times.end());
  const auto shown = std::upper_bound(times.begin(), times.end(), offset + 1e-6) - times.begin() - 1;
  ASSERT_GE(shown, 0) << "no frame at " << offset;

  const auto thumb = serve.request("GET", frame_url);
  ASSERT_EQ(thumb.status, 200) << thumb.body;
  EXPECT_EQ(thumb.header("Content-Type").value_or(""), "image/png");
  write_file(dir.file("thumb.png"), thumb.body);
  EXPECT_LE(load_png(dir.file("thumb.png")).width(), 320);

  const auto full = serve.request("GET", frame_url + "&width=4096");
  ASSERT_EQ(full.status, 200) << full.body;
  EXPECT_EQ(full.header("X-Frame-Source").value_or(""), "mp4") << "the job recorded no FBS";
  write_file(dir.file("full.png"), full.body);
  const auto picture = load_png(dir.file("full.png"));
  const auto frames = decode_frames(dir.file("segment.mp4"), picture.width(), picture.height());
  ASSERT_EQ(frames.size(), times.size());
  EXPECT_GT(psnr(picture, frames[static_cast<std::size_t>(shown)]), 40.0) << "t=" << offset << " frame " << shown;

  const auto base = "/api/v1/recordings/" + id + "/segments/" + std::to_string(segment) + "/frame";
  for (const char* bad : {"?t=-1", "?t=x", "?t=90000", "?t=1&width=8", "?t=1&width=99999"})
    EXPECT_EQ(serve.request("GET", base + bad).status, 400) << bad;
  EXPECT_EQ(serve.request("GET", "/api/v1/recordings/" + id + "/segments/99/frame?t=1").status, 404);
}

// A recording job of the tick guest: every tick is found by search, in its segment, at the second the guest's
// serial port printed it (within a frame period and QEMU's own delay in showing a change, as the transcript
// test measures).
TEST_F(ServiceTextTest, SearchFindsEachTickAtTheInstantItWasPrinted) {
  auto created = serve_->json("POST", "/api/v1/recordings", R"({"server": "tick", "duration": 4, "count": 2})", 202);
  const std::string id = created.at("job_id");
  auto job = serve_->wait_state(id, "done", 60s);
  std::this_thread::sleep_for(100ms);
  const auto stamps = serial_->seen();
  const auto start = parse_utc_ms(job.at("segments")[0].at("start"));
  const auto end = parse_utc_ms(job.at("segments")[1].at("end"));

  // The transcripts went to storage with their segments.
  for (int n = 1; n <= 2; ++n) {
    auto r = serve_->request("GET", "/api/v1/recordings/" + id + "/segments/" + std::to_string(n) + "/transcript");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(json::parse(r.body.substr(0, r.body.find('\n'))).at("key"), true);
  }

  int checked = 0;
  const std::regex tick(R"(^tick (\d+)$)");
  for (const auto& [line, seen_ms] : stamps) {
    std::smatch m;
    if (!std::regex_match(line, m, tick) || seen_ms < start + 200 || seen_ms > end - 200) continue;
    auto page = serve_->json("GET", "/api/v1/search?q=tick+" + m[1].str() + "&server=tick");
    const json* first = nullptr;  // the earliest hit: when the line appeared (later segments start with it too)
    for (const auto& hit : page.at("hits")) {
      EXPECT_EQ(hit.at("recording_id"), id);
      EXPECT_TRUE(
          std::regex_match(hit.at("line").get<std::string>(), std::regex("tick " + m[1].str() + R"( \d\d:\d\d:\d\d)")))
          << hit.dump();
      if (!first || hit.at("at") < first->at("at")) first = &hit;
    }
    ASSERT_NE(first, nullptr) << line << " not found";
    const auto at = parse_utc_ms(first->at("at"));
    EXPECT_NEAR(static_cast<double>(at - seen_ms), 0.0, 400.0) << line << ": " << first->dump();
    const int segment = first->at("segment");
    EXPECT_NEAR(first->at("offset_s").get<double>(),
                (at - parse_utc_ms(job.at("segments")[segment - 1].at("start"))) / 1000.0, 0.002);
    if (checked == 2) expect_frame_at_hit(*serve_, id, *first);
    ++checked;
  }
  EXPECT_GE(checked, 6);

  // Pages, filters, limits.
  auto one = serve_->json("GET", "/api/v1/search?q=tick&limit=2");
  ASSERT_EQ(one.at("hits").size(), 2u);
  ASSERT_TRUE(one.at("next_cursor").is_string());
  auto two = serve_->json("GET", "/api/v1/search?q=tick&limit=2&cursor=" + one.at("next_cursor").get<std::string>());
  ASSERT_FALSE(two.at("hits").empty());
  EXPECT_LE(two.at("hits")[0].at("at"), one.at("hits")[1].at("at"));
  EXPECT_NE(two.at("hits")[0], one.at("hits")[1]);
  EXPECT_TRUE(serve_->json("GET", "/api/v1/search?q=tick&server=shell").at("hits").empty());
  EXPECT_TRUE(serve_->json("GET", "/api/v1/search?q=tick&to=2001-01-01T00:00:00Z").at("hits").empty());
  EXPECT_FALSE(serve_->json("GET", "/api/v1/search?q=tick&from=2001-01-01T00:00:00Z").at("hits").empty());
  EXPECT_TRUE(serve_->json("GET", "/api/v1/search?q=nothing+like+this").at("hits").empty());
  for (const char* bad :
       {"", "?q=", "?q=%22%3A%2A", "?q=tick&limit=0", "?q=tick&limit=201", "?q=tick&limit=x", "?q=tick&from=yesterday",
        "?q=tick&from=2030-01-01T00:00:00Z&to=2029-01-01T00:00:00Z", "?q=tick&cursor=bogus"})
    EXPECT_EQ(serve_->request("GET", std::string("/api/v1/search") + bad).status, 400) << bad;
  EXPECT_EQ(serve_->request("GET", "/api/v1/search?q=" + std::string(300, 'a')).status, 400);
}

}  // namespace
}  // namespace vncgate::test
