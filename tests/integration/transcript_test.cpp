// SPDX-License-Identifier: Apache-2.0
// Transcripts written by `vncgate record` (src/record/transcriber) from a real QEMU console. Two oracles: the
// guest's serial port (the tick guest prints "tick N HH:MM:SS" on its console and then "tick N" on ttyS0; a
// watcher here stamps each serial line as it arrives) says which ticks were printed and roughly when; a second,
// unrecorded VNC client that asks for updates without pause says when each tick became visible at QEMU's VNC
// server (QEMU refreshes its VNC picture on an adaptive timer, up to a few hundred ms after the guest wrote).
// Every printed tick must be in the transcript, in its segment, within one frame period of when it became
// visible; the delay from the serial port is reported.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>
#include <utility>

#include "rfb/blocking_client.hpp"
#include "support/line_stamper.hpp"
#include "support/process.hpp"
#include "support/qemu.hpp"
#include "text/text_screen.hpp"
#include "text/transcript_reader.hpp"

namespace vncgate::test {
namespace {

using namespace std::chrono_literals;

nlohmann::json load_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("missing " + path);
  return nlohmann::json::parse(in);
}

// Stamps the first moment each "tick N" line is on the screen of `url`, read by a client of its own that
// asks for the next update as soon as one arrives.
class VisibleTicks {
 public:
  // Returns once the client reads the screen: loading the fonts and the first grid search take seconds under
  // ThreadSanitizer, and ticks stamped meanwhile would look late.
  explicit VisibleTicks(const std::string& url) : thread_([this, url] { run(url); }) { ready_.get_future().wait(); }
  ~VisibleTicks() {
    stop_ = true;
    thread_.join();
  }
  std::map<int, std::int64_t> seen() {
    std::lock_guard lock(mutex_);
    return seen_;
  }

 private:
  void run(const std::string& url) {
    rfb::BlockingClient client(io::Endpoint{.url = url}, rfb::ClientOptions{}, 20s);
    client.full_update(20s);
    text::TextScreen screen;
    const std::regex tick(R"(^tick (\d+) )");
    bool first = true;
    while (!stop_) {
      screen.update(client.framebuffer());
      if (std::exchange(first, false)) ready_.set_value();
      const auto now = unix_now_ms();
      for (const auto& line : screen.lines()) {
        std::smatch m;
        if (!std::regex_search(line, m, tick)) continue;
        std::lock_guard lock(mutex_);
        seen_.emplace(std::stoi(m[1]), now);
      }
      client.next_update(200ms);
    }
  }
  std::atomic<bool> stop_{false};
  std::promise<void> ready_;
  std::mutex mutex_;
  std::map<int, std::int64_t> seen_;
  std::thread thread_;
};

TEST(TranscriptRecord, EveryTickIsInItsSegmentWithinOneFramePeriod) {
  // no_timer_check: a starved TCG guest (a loaded machine) otherwise panics on its IO-APIC timer check.
  QemuGuest guest(
      QemuOptions{.mode = "tick", .extra_append = "no_timer_check", .boot_timeout = std::chrono::seconds(300)});
  TempDir dir("vncgate-transcript");
  const std::string out = dir.file("out");
  LineStamper serial(guest.serial_path());
  VisibleTicks visible(guest.vnc_url());
  constexpr double kFps = 10;
  const int code = run_command(
      {VNCGATE_BINARY, "record", guest.vnc_url(), "-o", out, "--duration", "4", "--count", "2", "--fps", "10"},
      dir.file("record.log"), 60s);
  ASSERT_EQ(code, 0) << read_file(dir.file("record.log"));
  std::this_thread::sleep_for(100ms);  // the last serial line stamped
  const auto stamps = serial.seen();
  const auto shown = visible.seen();

  const std::regex tick_line(R"(^tick (\d+) \d\d:\d\d:\d\d$)");
  std::map<int, std::int64_t> on_screen;  // tick → Unix ms of its first transcript appearance
  std::int64_t first_ms = 0, last_ms = 0;
  for (int n = 1; n <= 2; ++n) {
    const std::string stem = out + "/segment-00" + std::to_string(n);
    const auto sidecar = load_json(stem + ".json");
    ASSERT_EQ(sidecar.value("transcript", ""), "segment-00" + std::to_string(n) + ".transcript.jsonl");
    const std::int64_t start = parse_utc_ms(sidecar["start"]);
    const std::int64_t end = parse_utc_ms(sidecar["end"]);
    if (n == 1) first_ms = start;
    last_ms = end;

    std::ifstream in(stem + ".transcript.jsonl");
    ASSERT_TRUE(in) << stem;
    std::string first;
    ASSERT_TRUE(std::getline(in, first));
    const auto key = nlohmann::json::parse(first);  // each segment opens with the whole screen
    EXPECT_EQ(key["t"], 0.0) << stem;
    EXPECT_EQ(key["key"], true) << stem;
    EXPECT_EQ(key["text"], true) << stem;
    EXPECT_EQ(key["columns"], 80) << stem;
    EXPECT_EQ(key["rows"], 25) << stem;
    in.seekg(0);
    for (const auto& line : text::TranscriptReader::appeared(in)) {
      std::smatch m;
      if (!std::regex_match(line.text, m, tick_line)) continue;
      EXPECT_LE(line.t, (end - start) / 1000.0) << stem;
      on_screen.emplace(std::stoi(m[1]), start + static_cast<std::int64_t>(line.t * 1000 + 0.5));
    }
  }

  // Every tick the serial port saw while the recording ran (with a frame of margin each side) is on screen, at
  // the time the serial port saw it. The console shows a serial line 20-150 ms after the port (more on a loaded
  // machine): a tick the watching client first saw after the recording's last frame was never recorded.
  const double frame_ms = 1000 / kFps;
  int checked = 0;
  for (const auto& [line, seen_ms] : stamps) {
    std::smatch m;
    if (!std::regex_match(line, m, std::regex(R"(^tick (\d+)$)"))) continue;
    const int tick = std::stoi(m[1]);
    const auto visible_ms = shown.count(tick) ? shown.at(tick) : seen_ms;
    if (seen_ms < first_ms + frame_ms || std::max<std::int64_t>(seen_ms, visible_ms) > last_ms - frame_ms) continue;
    ASSERT_TRUE(on_screen.count(tick)) << "tick " << tick << " (serial at +" << seen_ms - first_ms
                                       << " ms) is not in the transcript";
    ASSERT_TRUE(shown.count(tick)) << "tick " << tick << " was never seen by the watching client";
    const auto late = on_screen[tick] - shown.at(tick);
    RecordProperty("tick_" + std::to_string(tick) + "_late_ms", static_cast<int>(late));
    std::printf("tick %d: serial +%lld ms, visible %+lld ms after it, transcript %+lld ms after that\n", tick,
                static_cast<long long>(seen_ms - first_ms), static_cast<long long>(shown.at(tick) - seen_ms),
                static_cast<long long>(late));
    EXPECT_GE(late, -frame_ms) << "tick " << tick;
    EXPECT_LE(late, frame_ms) << "tick " << tick;
    ++checked;
  }
  EXPECT_GE(checked, 6);  // 8 s of ticks, less the margins
}

}  // namespace
}  // namespace vncgate::test
