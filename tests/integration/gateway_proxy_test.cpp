// SPDX-License-Identifier: Apache-2.0
// `vncgate proxy` end to end against a real QEMU console (MODE=input: keys typed into the VM echo on screen).
// QMP screendump is the pixel oracle; viewers are our own client (TCP and ws://), `vncgate snapshot` and a
// libvncclient program. Checks fan-out, view-only enforcement, a hostile viewer, an upstream restart and the
// FBS recording.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <thread>

#include "rfb/blocking_client.hpp"
#include "support/image.hpp"
#include "support/media.hpp"
#include "support/process.hpp"
#include "support/qemu.hpp"

namespace vncgate::test {
namespace {

using namespace std::chrono_literals;
using framebuffer::PixelBuffer;

// A running `vncgate proxy`; stopped (SIGTERM) by the destructor.
struct Proxy {
  int port = free_port();
  int ws_port = free_port();
  Process process;

  Proxy(const TempDir& dir, const std::string& name, const std::string& target, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{VNCGATE_BINARY, "proxy",
                                  "--listen",     "127.0.0.1:" + std::to_string(port),
                                  "--ws",         "127.0.0.1:" + std::to_string(ws_port),
                                  "--target",     target};
    args.insert(args.end(), extra.begin(), extra.end());
    process = Process(args, dir.file(name + ".log"));
    if (!wait_for_port(port, 20s) || !wait_for_port(ws_port, 5s))
      throw std::runtime_error("proxy did not listen: " + process.log_tail());
  }
  std::string url() const { return "vnc://127.0.0.1:" + std::to_string(port); }
  std::string ws_url() const { return "ws://127.0.0.1:" + std::to_string(ws_port) + "/"; }
};

class GatewayProxy : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>("vncgate-gateway");
    guest_ = std::make_unique<QemuGuest>(QemuOptions{.mode = "input"});
    proxy_ = std::make_unique<Proxy>(*dir_, "proxy", guest_->vnc_url());
  }
  static void TearDownTestSuite() {
    proxy_.reset();
    guest_.reset();
    dir_.reset();
  }

  static std::unique_ptr<rfb::BlockingClient> connect(const std::string& url) {
    return std::make_unique<rfb::BlockingClient>(io::Endpoint{.url = url}, rfb::ClientOptions{}, 20s);
  }

  // Full updates until the viewer shows exactly QEMU's screen (the gateway may still be catching up).
  static std::string converge(rfb::BlockingClient& client, std::chrono::milliseconds timeout = 15s) {
    std::string diff;
    for (auto until = std::chrono::steady_clock::now() + timeout; std::chrono::steady_clock::now() < until;) {
      client.full_update(10s);
      diff = diff_summary(guest_->screendump(), client.framebuffer());
      if (diff.empty()) return diff;
      std::this_thread::sleep_for(200ms);
    }
    return diff;
  }

  static void type(rfb::BlockingClient& client, const std::string& text) {
    for (char c : text) {
      client.connection().send_key(static_cast<unsigned char>(c), true);
      client.connection().send_key(static_cast<unsigned char>(c), false);
      client.pump(60ms);  // QEMU's keyboard queue is short
    }
  }

  // True when QEMU's screen stops matching `before` within `timeout`.
  static bool screen_changes(const PixelBuffer& before, std::chrono::milliseconds timeout) {
    for (auto until = std::chrono::steady_clock::now() + timeout; std::chrono::steady_clock::now() < until;) {
      if (!diff_summary(before, guest_->screendump()).empty()) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }

  static std::string proxy_log() { return read_file(dir_->file("proxy.log")); }

  static std::unique_ptr<TempDir> dir_;
  static std::unique_ptr<QemuGuest> guest_;
  static std::unique_ptr<Proxy> proxy_;
};
std::unique_ptr<TempDir> GatewayProxy::dir_;
std::unique_ptr<QemuGuest> GatewayProxy::guest_;
std::unique_ptr<Proxy> GatewayProxy::proxy_;

TEST_F(GatewayProxy, SnapshotThroughTheProxyEqualsScreendump) {
  const auto png = dir_->file("snap.png");
  ASSERT_EQ(run_command({VNCGATE_BINARY, "snapshot", proxy_->url(), png}, dir_->file("snap.log"), 30s), 0)
      << read_file(dir_->file("snap.log")) << proxy_log();
  EXPECT_EQ(diff_summary(guest_->screendump(), load_png(png)), "");
}

TEST_F(GatewayProxy, LibvncclientThroughTheProxyEqualsScreendump) {
  const auto ppm = dir_->file("libvnc.ppm");
  const int rc = run_command({VNCGATE_LIBVNCCLIENT_SNAPSHOT, "127.0.0.1:" + std::to_string(proxy_->port), ppm, "20"},
                             dir_->file("libvnc.log"), 30s);
  ASSERT_EQ(rc, 0) << read_file(dir_->file("libvnc.log")) << proxy_log();
  EXPECT_EQ(diff_summary(guest_->screendump(), load_ppm(ppm)), "");
}

TEST_F(GatewayProxy, TwoViewersAndAWebSocketViewerAtOnce) {
  auto a = connect(proxy_->url());
  auto b = connect(proxy_->url());
  auto ws = connect(proxy_->ws_url());  // websockify-style: RFB in binary WebSocket messages
  EXPECT_EQ(converge(*a), "");
  EXPECT_EQ(converge(*b), "");
  EXPECT_EQ(converge(*ws), "");
}

// Keys from a view-only viewer never reach the guest; the same keys from an interactive viewer do, and every
// viewer (the view-only one included) sees the result.
TEST_F(GatewayProxy, ViewOnlyKeystrokesDoNotReachTheGuest) {
  Proxy view_only(*dir_, "view-only-proxy", guest_->vnc_url(), {"--view-only"});
  auto watcher = connect(view_only.url());
  auto typist = connect(proxy_->url());
  ASSERT_EQ(converge(*watcher), "");
  const auto before = guest_->screendump();
  type(*watcher, "nope");
  EXPECT_FALSE(screen_changes(before, 2s)) << "a view-only viewer's keys reached the guest";

  type(*typist, "echo gateway");
  EXPECT_TRUE(screen_changes(before, 5s)) << "an interactive viewer's keys did not reach the guest";
  std::this_thread::sleep_for(500ms);  // the echo settles
  EXPECT_EQ(converge(*watcher), "");
  EXPECT_EQ(converge(*typist), "");
}

TEST_F(GatewayProxy, ViewerSendingGarbageIsDroppedOthersKeepWorking) {
  auto good = connect(proxy_->url());
  ASSERT_EQ(converge(*good), "");
  boost::asio::io_context ctx;
  boost::asio::ip::tcp::socket raw(ctx);
  raw.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(proxy_->port)});
  char version[12];
  boost::asio::read(raw, boost::asio::buffer(version));
  const std::string garbage = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  boost::asio::write(raw, boost::asio::buffer(garbage));
  // The gateway hangs up on it.
  boost::system::error_code ec;
  char sink[64];
  for (int i = 0; i < 100 && !ec; ++i) raw.read_some(boost::asio::buffer(sink), ec);
  EXPECT_TRUE(ec) << "the hostile viewer was not disconnected";
  EXPECT_TRUE(wait_for_file_contains(dir_->file("proxy.log"), "malformed RFB", 5s)) << proxy_log();
  EXPECT_EQ(converge(*good), "");
}

// --viewer-password-file: viewers must pass VNC Authentication with the gateway's own password (the
// upstream's is never shown to them).
TEST_F(GatewayProxy, ViewerPasswordIsRequired) {
  write_file(dir_->file("viewer-pw"), "gate1234\n");
  write_file(dir_->file("wrong-pw"), "nope\n");
  Proxy guarded(*dir_, "guarded-proxy", guest_->vnc_url(), {"--viewer-password-file", dir_->file("viewer-pw")});
  // Refused before anything listens: beyond loopback without a viewer password, or a bad target.
  EXPECT_EQ(run_command({VNCGATE_BINARY, "proxy", "--listen", "0.0.0.0:1", "--target", guest_->vnc_url()},
                        dir_->file("refused.log"), 10s),
            2);
  EXPECT_NE(read_file(dir_->file("refused.log")).find("--viewer-password-file"), std::string::npos);
  EXPECT_EQ(run_command({VNCGATE_BINARY, "proxy", "--target", "gopher://x"}, dir_->file("refused.log"), 10s), 2);
  const auto png = dir_->file("guarded.png");
  EXPECT_EQ(run_command({VNCGATE_BINARY, "snapshot", guarded.url(), png, "--password-file", dir_->file("wrong-pw")},
                        dir_->file("guarded-snap.log"), 30s),
            3)
      << read_file(dir_->file("guarded-snap.log"));
  ASSERT_EQ(run_command({VNCGATE_BINARY, "snapshot", guarded.url(), png, "--password-file", dir_->file("viewer-pw")},
                        dir_->file("guarded-snap.log"), 30s),
            0)
      << read_file(dir_->file("guarded-snap.log"));
  EXPECT_EQ(diff_summary(guest_->screendump(), load_png(png)), "");
}

// The FBS recording of the proxied session converts losslessly to the console's final picture.
TEST_F(GatewayProxy, RecordingConvertsToTheScreendump) {
  const auto rec = dir_->file("rec");
  PixelBuffer oracle;
  {
    Proxy recording(*dir_, "record-proxy", guest_->vnc_url(), {"--record", rec, "--lossless", "--audit-keys"});
    auto viewer = connect(recording.url());
    ASSERT_EQ(converge(*viewer), "");
    // A change a second in, so the recording spans several frame periods (a screen that never changes after
    // the first 100 ms makes a degenerate FBS for convert's frame pacing).
    std::this_thread::sleep_for(1000ms);
    type(*viewer, "rec");
    std::this_thread::sleep_for(500ms);
    ASSERT_EQ(converge(*viewer), "");
    oracle = guest_->screendump();
    viewer->pump(500ms);
    EXPECT_EQ(recording.process.stop(5000ms), 0) << recording.process.log_tail();  // SIGTERM: finalised
  }
  const auto fbs = rec + "/recording.fbs";
  ASSERT_TRUE(std::filesystem::exists(fbs));
  const auto audit = read_file(rec + "/audit.jsonl");
  EXPECT_NE(audit.find(R"("event":"key")"), std::string::npos) << audit;  // --audit-keys
  const auto mp4 = dir_->file("rec.mp4");
  ASSERT_EQ(run_command({VNCGATE_BINARY, "convert", fbs, mp4, "--lossless"}, dir_->file("convert.log"), 60s), 0)
      << read_file(dir_->file("convert.log"));
  const auto frames = decode_frames(mp4, oracle.width(), oracle.height());
  ASSERT_FALSE(frames.empty());
  EXPECT_EQ(diff_summary(oracle, frames.back()), "");
  if (!diff_summary(oracle, frames.back()).empty()) {
    save_ppm(oracle, dir_->file("oracle.ppm"));
    save_ppm(frames.back(), dir_->file("fbs-last.ppm"));
  }
  // The live MP4 segment (recorder's encoder path, lossless here) ends on the same picture.
  const auto live = decode_frames(rec + "/video-001.mp4", oracle.width(), oracle.height());
  ASSERT_FALSE(live.empty());
  EXPECT_EQ(diff_summary(oracle, live.back()), "");
  EXPECT_TRUE(std::filesystem::exists(rec + "/video-001.json"));
}

// Last: replaces the guest. QEMU killed and started again on the same port; the viewer stays connected,
// sees the held frame meanwhile, and then the new guest's picture (which lacks the text typed before).
TEST_F(GatewayProxy, UpstreamRestartViewersStayAndPictureComesBack) {
  auto viewer = connect(proxy_->url());
  type(*viewer, "before restart");
  std::this_thread::sleep_for(500ms);
  ASSERT_EQ(converge(*viewer), "");
  const PixelBuffer held = viewer->framebuffer();
  const int port = guest_->port();
  guest_.reset();
  viewer->pump(1500ms);  // throws if the proxy dropped us
  viewer->full_update(10s);
  EXPECT_EQ(diff_summary(held, viewer->framebuffer()), "") << "the held frame should be served while down";
  guest_ = std::make_unique<QemuGuest>(QemuOptions{.mode = "input", .port = port});
  ASSERT_TRUE(wait_for_file_contains(dir_->file("proxy.log"), "reconnecting", 1s)) << proxy_log();
  EXPECT_EQ(converge(*viewer, 30s), "") << proxy_log();
  EXPECT_NE(diff_summary(held, viewer->framebuffer()), "") << "the picture should come from the new guest";
}

}  // namespace
}  // namespace vncgate::test
