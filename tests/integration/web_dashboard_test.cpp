// SPDX-License-Identifier: Apache-2.0
// The dashboard served by `vncgate serve`, in Debian's chromium (playwright-core): a recording made through
// the API shows up, reaches done, its thumbnail loads and its MP4 segment plays in the page's <video>; with API
// keys configured the page asks for one and then works the same. The page's search box finds the recording by
// its console text and plays the hit's segment from that second. A default-settings recording of coloured
// console text plays in the page and the picture Chromium decodes is the console's.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "service_fixture.hpp"
#include "support/browser.hpp"
#include "support/image.hpp"
#include "support/media.hpp"
#include "support/qemu.hpp"

namespace vncgate::test {
namespace {

class WebDashboardTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { guest_ = new QemuGuest(QemuOptions{.mode = "tick"}); }
  static void TearDownTestSuite() { delete guest_; }
  static inline QemuGuest* guest_ = nullptr;
};

void check_dashboard(ServeProcess& serve, const TempDir& dir, const http::Headers& auth, const std::string& key) {
  auto response = serve.request("POST", "/api/v1/recordings", R"({"server": "demo", "duration": 2, "count": 2})", auth);
  ASSERT_EQ(response.status, 202) << response.body;
  const std::string id = nlohmann::json::parse(response.body).at("job_id");
  std::vector<std::string> args = {
      "--url", serve.url("/"), "--job", id, "--state", "done", "--out", dir.file("dashboard.png"), "--search", "tick"};
  if (!key.empty()) args.insert(args.end(), {"--api-key", key});
  const auto result = run_browser_check("dashboard_check.mjs", args, dir.path(), std::chrono::seconds(90));
  EXPECT_EQ(result.exit_code, kBrowserOk) << result.log << "\n" << serve.log_tail();
  const auto report = nlohmann::json::parse(result.report.empty() ? "{}" : result.report);
  if (!key.empty()) {
    EXPECT_GE(report.value("prompts", 0), 1) << "the page asked for the key";
  }
  // The guest prints "tick N HH:MM:SS" every second: the recording's transcript has such lines, the search box
  // finds them, and the hit plays its segment from the second the line appeared.
  ASSERT_TRUE(report.contains("search")) << result.log;
  EXPECT_NE(report["search"].value("line", "").find("tick"), std::string::npos) << report.dump();
  EXPECT_GE(report["search"].value("offset", -1.0), 0.0);
}

TEST_F(WebDashboardTest, RecordingReachesDoneWithThumbnailAndPlayableVideo) {
  TempDir dir("vncgate-dashboard");
  ServeProcess serve(ServeOptions{.data_dir = dir.path(), .targets = {"demo=" + guest_->vnc_url()}});
  serve.start();
  check_dashboard(serve, dir, {}, "");
}

TEST_F(WebDashboardTest, AsksForTheApiKeyWhenTheServerHasKeys) {
  TempDir dir("vncgate-dashboard-key");
  const std::string key = "dashboard-key-0123456789";
  ServeProcess serve(ServeOptions{
      .data_dir = dir.path(), .targets = {"demo=" + guest_->vnc_url()}, .env = {{"VNCGATE_SERVER_API_KEYS", key}}});
  serve.start();
  EXPECT_EQ(serve.request("GET", "/").status, 200) << "the page itself is public";
  check_dashboard(serve, dir, {{"Authorization", "Bearer " + key}}, key);
}

// A job that records FBS: while the dashboard's player seeks, the server's picture at the new instant (from
// the FBS recording and its checkpoints, X-Frame-Source: fbs) lies over the video until the video has decoded
// that instant itself; one request per seek, every one answered from the FBS file, none left over the video.
// The scrub bar under the player shows the picture of the instant it is released at first, then seeks the video
// there (its 'seeking' comes after the picture).
TEST_F(WebDashboardTest, SeeksInAnFbsRecordingShowTheServersPictureUntilTheVideoGetsThere) {
  TempDir dir("vncgate-dashboard-seek");
  ServeProcess serve(ServeOptions{.data_dir = dir.path(), .targets = {"demo=" + guest_->vnc_url()}});
  serve.start();
  auto response =
      serve.request("POST", "/api/v1/recordings", R"({"server": "demo", "duration": 6, "count": 1, "fbs": true})");
  ASSERT_EQ(response.status, 202) << response.body;
  const std::string id = nlohmann::json::parse(response.body).at("job_id");
  constexpr int kSeeks = 20;
  constexpr int kScrubs = 10;
  const auto result = run_browser_check("dashboard_check.mjs",
                                        {"--url", serve.url("/"), "--job", id, "--state", "done", "--seek-previews",
                                         std::to_string(kSeeks), "--scrub", std::to_string(kScrubs)},
                                        dir.path(), std::chrono::seconds(90));
  ASSERT_EQ(result.exit_code, kBrowserOk) << result.log << "\n" << serve.log_tail();
  const auto report = nlohmann::json::parse(result.report);
  ASSERT_EQ(report["seeks"].size(), static_cast<std::size_t>(kSeeks)) << result.report;
  int shown = 0;
  std::vector<double> to_picture, seeked;
  for (const auto& seek : report["seeks"]) {
    EXPECT_TRUE(seek.value("hidden_after", false)) << "a preview left over the video: " << seek.dump();
    const double video_ms = seek.at("seeked_ms");
    seeked.push_back(video_ms);
    if (!seek.contains("preview_ms")) {
      to_picture.push_back(video_ms);
      continue;
    }
    ++shown;
    to_picture.push_back(std::min(video_ms, seek["preview_ms"].get<double>()));
    EXPECT_EQ(seek.value("preview_source", ""), "fbs") << seek.dump();
    // As wide as the player shows the video (sampled down by the server), never wider than the video.
    EXPECT_GT(seek.value("preview_width", 0), 0) << seek.dump();
    EXPECT_LE(seek.value("preview_width", 0), report["video"].value("width", -1)) << seek.dump();
  }
  EXPECT_GE(report["frame_responses"].size(), static_cast<std::size_t>(kSeeks)) << "one picture asked per seek";
  for (const auto& r : report["frame_responses"]) {
    EXPECT_EQ(r.value("status", 0), 200) << r.dump();
    EXPECT_EQ(r.value("source", ""), "fbs") << r.dump();
  }
  ASSERT_EQ(report["scrubs"].size(), static_cast<std::size_t>(kScrubs)) << result.report;
  std::vector<double> scrub_picture;
  for (const auto& scrub : report["scrubs"]) {
    ASSERT_TRUE(scrub.contains("preview_ms")) << "no picture for a scrub: " << scrub.dump();
    EXPECT_EQ(scrub.value("preview_source", ""), "fbs") << scrub.dump();
    EXPECT_GE(scrub.value("seeking_ms", -1.0), scrub.at("preview_ms").get<double>())
        << "the video seeked before the picture was up: " << scrub.dump();
    EXPECT_NEAR(scrub.value("current_time", -1.0), scrub.at("t").get<double>(), 0.05) << scrub.dump();
    EXPECT_TRUE(scrub.value("hidden_after", false)) << "a picture left over the video: " << scrub.dump();
    scrub_picture.push_back(scrub.at("preview_ms"));
  }
  const auto& key = report.at("scrub_key");  // an arrow key: 5 s along (or to an end), the picture first as well
  EXPECT_NEAR(key.at("current_time").get<double>(), key.at("expected").get<double>(), 0.05) << key.dump();
  EXPECT_GT(std::abs(key.at("current_time").get<double>() - key.at("from").get<double>()), 0.5) << key.dump();
  EXPECT_NEAR(key.value("picture_t", -1.0), key.at("current_time").get<double>(), 0.01) << key.dump();
  EXPECT_GE(report["frame_responses"].size(), static_cast<std::size_t>(kSeeks + kScrubs + 1));
  std::sort(scrub_picture.begin(), scrub_picture.end());
  std::printf("scrub bar: picture median %.1f / max %.1f ms\n", scrub_picture[kScrubs / 2], scrub_picture.back());
  std::sort(to_picture.begin(), to_picture.end());
  std::sort(seeked.begin(), seeked.end());
  std::printf(
      "seeks: %d of %d showed the server's picture first; to a picture median %.1f / max %.1f ms, "
      "video seeked median %.1f / max %.1f ms\n",
      shown, kSeeks, to_picture[kSeeks / 2], to_picture.back(), seeked[kSeeks / 2], seeked.back());
}

// The recording default is H.264 High 4:4:4 (sharp coloured text): the dashboard's player in Debian's Chromium
// decodes it — frames pass the decoder, currentTime advances — and the frame it shows, read back through a
// canvas, is QEMU's framebuffer at >= 45 dB (4:2:0 smeared this fbcon screen to about 37 dB).
TEST(WebDashboardColour, DefaultRecordingOfColouredTextPlaysSharpInChromium) {
  QemuGuest guest(QemuOptions{.mode = "static", .extra_append = "vga=0x317"});
  TempDir dir("vncgate-dashboard-colour");
  ServeProcess serve(ServeOptions{.data_dir = dir.path(), .targets = {"demo=" + guest.vnc_url()}});
  serve.start();
  auto response = serve.request("POST", "/api/v1/recordings", R"({"server": "demo", "duration": 3, "count": 1})");
  ASSERT_EQ(response.status, 202) << response.body;
  const std::string id = nlohmann::json::parse(response.body).at("job_id");
  const std::string frame = dir.file("frame.png");
  const auto result = run_browser_check("dashboard_check.mjs",
                                        {"--url", serve.url("/"), "--job", id, "--state", "done", "--frame-out", frame},
                                        dir.path(), std::chrono::seconds(90));
  ASSERT_EQ(result.exit_code, kBrowserOk) << result.log << "\n" << serve.log_tail();
  const auto report = nlohmann::json::parse(result.report);
  EXPECT_GT(report["decoded"]["frames"].get<int>(), 0) << result.report;
  EXPECT_EQ(report["played"], true) << result.report;
  EXPECT_EQ(report["video"]["width"], 1024) << result.report;

  const auto shown = load_png(frame);
  ASSERT_EQ(shown.width(), 1024);
  ASSERT_EQ(shown.height(), 768);
  const double db = psnr(guest.screendump(), shown);
  EXPECT_GE(db, 45.0);
  std::printf("coloured fbcon recording as Chromium decodes it: %.2f dB PSNR vs screendump\n", db);
}

}  // namespace
}  // namespace vncgate::test
