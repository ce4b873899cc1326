// SPDX-License-Identifier: Apache-2.0
// FBS end to end against a real QEMU console: record a ticking guest through ClientConnection's tap into an
// fbs::Writer, pause the VM so the screen is still, then check that (1) the replayed final frame is QEMU's
// screendump byte for byte, (2) `vncgate play` serves it to `vncgate snapshot`, to libvncclient in each encoding
// and to noVNC in chromium (our Tight and Hextile encoders against independent decoders), and (3) --from/--speed
// pick the right moment.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>

#include "fbs/index.hpp"
#include "fbs/replay.hpp"
#include "fbs/writer.hpp"
#include "rfb/blocking_client.hpp"
#include "rfb/server_connection.hpp"
#include "support/browser.hpp"
#include "support/image.hpp"
#include "support/process.hpp"
#include "support/qemu.hpp"
#include "support/websockify.hpp"

namespace vncgate::test {
namespace {

using namespace std::chrono_literals;
using framebuffer::PixelBuffer;

class FbsPlay : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>("vncgate-fbs-play");
    guest_ = std::make_unique<QemuGuest>(QemuOptions{.mode = "tick", .extra_append = "vt.global_cursor_default=0"});
    record();
  }
  static void TearDownTestSuite() {
    guest_.reset();
    dir_.reset();
  }

  // ~3.5 s of ticking, then QMP "stop" and updates until the client shows exactly the screendump.
  static void record() {
    const auto start = std::chrono::steady_clock::now();
    auto clock = [start] {
      return static_cast<std::uint32_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count());
    };
    std::unique_ptr<fbs::LazyWriter> recorder;
    rfb::BlockingClient client(
        io::Endpoint{.url = guest_->vnc_url()}, rfb::ClientOptions{}, 10s,
        [&](rfb::ClientConnection& c) { recorder = std::make_unique<fbs::LazyWriter>(c, path(), clock); });
    client.full_update(10s);
    while (std::chrono::steady_clock::now() - start < 3500ms) client.next_update(200ms);
    guest_->qmp().execute(R"({"execute":"stop"})");
    for (auto until = std::chrono::steady_clock::now() + 15s; std::chrono::steady_clock::now() < until;) {
      client.next_update(400ms);
      oracle_ = guest_->screendump();
      if (diff_summary(oracle_, client.framebuffer()).empty()) break;
    }
    ASSERT_EQ(diff_summary(oracle_, client.framebuffer()), "") << "client never converged on the paused screen";
    recorded_updates_ = client.connection().updates_completed();
    recorder->close();
    client.close();
  }

  static std::string path() { return dir_->file("session.fbs"); }

  // Starts `vncgate play` with `args` (debug logging when `verbose`); returns its port once it listens.
  int start_play(std::vector<std::string> args, bool verbose = false, const std::string& file = path()) {
    const int port = free_port();
    args.insert(args.begin(), {VNCGATE_BINARY, "play", file, "--listen", "127.0.0.1:" + std::to_string(port)});
    if (verbose) args.insert(args.begin() + 1, "-v");
    play_ = Process(args, dir_->file("play.log"));
    EXPECT_TRUE(wait_for_port(port, 20s)) << read_file(dir_->file("play.log"));
    return port;
  }

  // The encoding `vncgate -v play` chose for the latest viewer (its debug log after each SetEncodings).
  std::string last_pixel_encoding() const {
    const std::string log = read_file(dir_->file("play.log"));
    const std::string marker = "pixels go as ";
    const auto at = log.rfind(marker);
    if (at == std::string::npos) return "";
    const auto start = at + marker.size();
    return log.substr(start, log.find(' ', start) - start);
  }

  PixelBuffer snapshot(int port) {
    const auto png = dir_->file("snap.png");
    const int rc = run_command({VNCGATE_BINARY, "snapshot", "vnc://127.0.0.1:" + std::to_string(port), png},
                               dir_->file("snap.log"), 30s);
    EXPECT_EQ(rc, 0) << read_file(dir_->file("snap.log")) << read_file(dir_->file("play.log"));
    return load_png(png);
  }

  static std::unique_ptr<TempDir> dir_;
  static std::unique_ptr<QemuGuest> guest_;
  static PixelBuffer oracle_;
  static std::uint64_t recorded_updates_;
  Process play_;
};
std::unique_ptr<TempDir> FbsPlay::dir_;
std::unique_ptr<QemuGuest> FbsPlay::guest_;
PixelBuffer FbsPlay::oracle_;
std::uint64_t FbsPlay::recorded_updates_ = 0;

TEST_F(FbsPlay, ReplayedFinalFrameEqualsScreendump) {
  std::vector<std::uint32_t> times;
  PixelBuffer last;
  const auto result = fbs::Replay(fbs::Reader::open(path())).run([&](const fbs::Frame& f) {
    times.push_back(f.ms);
    last = f.pixels;
    return true;
  });
  EXPECT_TRUE(result.ok()) << result.read.message << result.decode_error;
  EXPECT_EQ(diff_summary(oracle_, last), "");
  EXPECT_GE(times.size(), 4u) << "a ticking screen updates every second";
  EXPECT_GE(result.last_ms, 3000u);
  const auto index = fbs::read_index(fbs::index_path_for(path()));
  EXPECT_GE(index.size(), 3u);
  std::printf("recording: %zu frames over %u ms, %zu index entries, %llu updates\n", times.size(), result.last_ms,
              index.size(), static_cast<unsigned long long>(recorded_updates_));
}

TEST_F(FbsPlay, PlayFromTheEndServesTheRecordedFrameToSnapshot) {
  const int port = start_play({"--from", "1000"});
  EXPECT_EQ(diff_summary(oracle_, snapshot(port)), "");
}

// libvncclient decodes what we send in each encoding we offer; its default list puts Tight first and asks for
// JPEG quality 5, and the text console must still come out exact (palette and fill, never JPEG).
TEST_F(FbsPlay, PlayServesLibvncclient) {
  const int port = start_play({"--from", "1000"}, true);
  for (const std::string encodings : {"", "tight", "hextile raw", "zrle", "raw"}) {
    SCOPED_TRACE("encodings '" + encodings + "'");
    const auto ppm = dir_->file("libvncclient.ppm");
    std::vector<std::string> args{VNCGATE_LIBVNCCLIENT_SNAPSHOT, "127.0.0.1:" + std::to_string(port), ppm, "20"};
    if (!encodings.empty()) args.push_back(encodings);
    const int rc = run_command(args, dir_->file("libvnc.log"), 30s);
    ASSERT_EQ(rc, 0) << read_file(dir_->file("libvnc.log")) << read_file(dir_->file("play.log"));
    EXPECT_EQ(diff_summary(oracle_, load_ppm(ppm)), "");
    const std::string expected = encodings.empty() ? "tight" : encodings.substr(0, encodings.find(' '));
    EXPECT_EQ(last_pixel_encoding(), expected) << read_file(dir_->file("play.log"));
  }
}

// Debian's noVNC 1.3 (the bundled console page) in chromium, through websockify, decodes our Tight: the canvas
// is the screendump. It offers no ZRLE, so before Tight it got Raw; the byte counts of both are printed.
TEST_F(FbsPlay, NoVncInChromiumDecodesOurTight) {
  const int port = start_play({"--from", "1000"}, true);
  Websockify proxy({{"play", "127.0.0.1:" + std::to_string(port)}}, VNCGATE_WEB_ROOT);
  const std::string png = dir_->file("novnc.png");
  const BrowserResult r = run_browser_check(
      "console_check.mjs", {"--url", proxy.http_url("/console.html?ws_path=/%3Ftoken%3Dplay"), "--out", png},
      dir_->path());
  ASSERT_EQ(r.exit_code, kBrowserOk) << r.log << read_file(dir_->file("play.log"));
  EXPECT_EQ(diff_summary(oracle_, load_png(png)), "") << "noVNC canvas vs QMP screendump";
  EXPECT_EQ(last_pixel_encoding(), "tight") << read_file(dir_->file("play.log"));

  // Bytes per full frame as noVNC would get them (quality 6, compression 2 are its defaults) and as Raw.
  auto full_frame_bytes = [&](std::vector<rfb::Encoding> encodings, rfb::Encoding e) {
    rfb::ClientOptions options;
    options.encodings = std::move(encodings);
    rfb::BlockingClient client(io::Endpoint{.url = "vnc://127.0.0.1:" + std::to_string(port)}, options, 10s);
    client.full_update(10s);
    EXPECT_EQ(diff_summary(oracle_, client.framebuffer()), "") << rfb::encoding_name(static_cast<std::int32_t>(e));
    const auto& stats = client.connection().stats();
    const auto it = stats.find(static_cast<std::int32_t>(e));
    client.close();
    return it == stats.end() ? std::uint64_t{0} : it->second.bytes;
  };
  const auto raw = full_frame_bytes({rfb::Encoding::raw}, rfb::Encoding::raw);
  const auto tight = full_frame_bytes(
      {rfb::Encoding::tight, rfb::quality_level(6), rfb::compress_level(2), rfb::Encoding::raw}, rfb::Encoding::tight);
  std::printf("text console %dx%d, one full frame: raw %llu bytes, tight %llu bytes (%.1fx smaller)\n", oracle_.width(),
              oracle_.height(), static_cast<unsigned long long>(raw), static_cast<unsigned long long>(tight),
              tight ? double(raw) / double(tight) : 0.0);
  EXPECT_GT(tight, 0u);
  EXPECT_LT(tight * 10, raw);
}

// A photo-like screen (no QEMU console has one): an FBS of a synthetic 720x400 picture, text above and a noisy
// colour field below, served by `vncgate play`. libvncclient (JPEG quality 5) and noVNC (quality 6) decode our
// JPEG tiles: the text bands are exact, the photo within a PSNR bound and really lossy.
TEST_F(FbsPlay, JpegTilesDecodeInLibvncclientAndNoVnc) {
  PixelBuffer picture(720, 400);
  for (int y = 0; y < 400; ++y)
    for (int x = 0; x < 720; ++x)  // 720 wide: Tight bands are 91 rows, so rows 0-181 hold only text
      picture.row(y)[x] = y < 182
                              ? ((x / 3 + y / 4) % 7 == 0 ? 0xc0c0c0u : 0x000000u)
                              : framebuffer::make_pixel(x * 255 / 720, (y - 182) & 0xff, (x * y / 64 + x % 5) & 0xff);
  const std::string photo = dir_->file("photo.fbs");
  {
    rfb::ServerConnection server({}, picture.width(), picture.height());
    rfb::ClientOptions options;
    options.encodings = {rfb::Encoding::raw};
    rfb::ClientConnection client(options);
    fbs::LazyWriter writer(client, photo, [] { return 0u; });
    for (int i = 0; i < 10 && !client.frame_complete(); ++i) {
      client.feed(server.take_output());
      server.feed(client.take_output());
      server.send_update(picture);
    }
    ASSERT_EQ(diff_summary(picture, client.framebuffer()), "");
    writer.close();
  }
  const int port = start_play({}, true, photo);
  const framebuffer::Rect text{0, 0, 720, 182}, image{0, 182, 720, 218};
  auto check = [&](const PixelBuffer& seen, const std::string& who) {
    ASSERT_EQ(seen.width(), 720) << who;
    ASSERT_EQ(seen.height(), 400) << who;
    const double text_db = psnr(picture, seen, text), image_db = psnr(picture, seen, image);
    std::printf("%s: text %.1f dB, photo %.1f dB\n", who.c_str(), text_db, image_db);
    EXPECT_EQ(text_db, 99.0) << who << ": text must stay exact";
    EXPECT_GT(image_db, 25.0) << who;  // sharp noise at quality 5-6; a wrong decode (swapped channels) is < 15
    EXPECT_LT(image_db, 99.0) << who << ": the photo did not go as JPEG";
    EXPECT_EQ(last_pixel_encoding(), "tight") << who;
  };
  const auto ppm = dir_->file("photo.ppm");
  ASSERT_EQ(run_command({VNCGATE_LIBVNCCLIENT_SNAPSHOT, "127.0.0.1:" + std::to_string(port), ppm, "20"},
                        dir_->file("libvnc.log"), 30s),
            0)
      << read_file(dir_->file("libvnc.log"));
  check(load_ppm(ppm), "libvncclient");

  Websockify proxy({{"play", "127.0.0.1:" + std::to_string(port)}}, VNCGATE_WEB_ROOT);
  const std::string png = dir_->file("photo.png");
  const BrowserResult r = run_browser_check(
      "console_check.mjs", {"--url", proxy.http_url("/console.html?ws_path=/%3Ftoken%3Dplay"), "--out", png},
      dir_->path());
  ASSERT_EQ(r.exit_code, kBrowserOk) << r.log;
  check(load_png(png), "noVNC");
}

// At a crawl the screen stays at --from; the same instant from the library's replay is the reference.
TEST_F(FbsPlay, SlowPlaybackHoldsTheFrameAtFrom) {
  const std::uint32_t from_ms = 1200;
  PixelBuffer expected;
  fbs::Replay(fbs::Reader::open(path())).run(from_ms, from_ms, [&](const fbs::Frame& f) {
    expected = f.pixels;
    return false;
  });
  ASSERT_NE(diff_summary(oracle_, expected), "") << "the screen at 1.2 s should differ from the end";
  const int port = start_play({"--from", "1.2", "--speed", "0.001"});
  EXPECT_EQ(diff_summary(expected, snapshot(port)), "");
}

// Fast playback reaches the end and then holds the final frame.
TEST_F(FbsPlay, FastPlaybackEndsOnTheFinalFrame) {
  const int port = start_play({"--speed", "20"});
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(diff_summary(oracle_, snapshot(port)), "");
}

TEST_F(FbsPlay, PasswordFileRequiresVncAuthentication) {
  write_file(dir_->file("pw"), "sesame12\n");
  write_file(dir_->file("wrong"), "nope\n");
  const int port = start_play({"--from", "1000", "--password-file", dir_->file("pw")});
  const auto url = "vnc://127.0.0.1:" + std::to_string(port);
  EXPECT_EQ(run_command({VNCGATE_BINARY, "snapshot", url, dir_->file("pw.png"), "--password-file", dir_->file("wrong")},
                        dir_->file("snap.log"), 30s),
            3);
  EXPECT_NE(read_file(dir_->file("snap.log")).find("Authentication failed"), std::string::npos)
      << read_file(dir_->file("snap.log"));
  ASSERT_EQ(run_command({VNCGATE_BINARY, "snapshot", url, dir_->file("pw.png"), "--password-file", dir_->file("pw")},
                        dir_->file("snap.log"), 30s),
            0)
      << read_file(dir_->file("snap.log"));
  EXPECT_EQ(diff_summary(oracle_, load_png(dir_->file("pw.png"))), "");
}

TEST_F(FbsPlay, LoopStartsOver) {
  start_play({"--speed", "50", "--loop"});
  std::this_thread::sleep_for(1500ms);
  const auto log = read_file(dir_->file("play.log"));
  std::size_t ends = 0;
  for (auto at = log.find("end of recording"); at != std::string::npos; at = log.find("end of recording", at + 1))
    ++ends;
  EXPECT_GE(ends, 2u) << log;
}

// A recording cut mid-block (a killed recorder) plays up to the damage, says so, and serves its last frame.
TEST_F(FbsPlay, TruncatedRecordingPlaysUpToTheDamage) {
  const auto full = read_file(path());
  const auto cut = dir_->file("cut.fbs");
  write_file(cut, full.substr(0, full.size() - 5));
  const PixelBuffer expected = fbs::final_frame(fbs::Reader::open(cut));
  const int port = free_port();
  play_ = Process({VNCGATE_BINARY, "play", cut, "--listen", "127.0.0.1:" + std::to_string(port), "--from", "1000"},
                  dir_->file("play.log"));
  ASSERT_TRUE(wait_for_port(port, 20s)) << read_file(dir_->file("play.log"));
  EXPECT_EQ(diff_summary(expected, snapshot(port)), "");
  EXPECT_NE(read_file(dir_->file("play.log")).find("recording damaged, played up to there"), std::string::npos)
      << read_file(dir_->file("play.log"));
}

TEST_F(FbsPlay, BadInputExitsWithClearErrors) {
  const auto junk = dir_->file("junk.fbs");
  write_file(junk, "RFB 003.008\n");
  EXPECT_EQ(run_command({VNCGATE_BINARY, "play", junk, "--listen", "127.0.0.1:1"}, dir_->file("bad.log"), 10s), 4);
  EXPECT_NE(read_file(dir_->file("bad.log")).find("not an FBS recording"), std::string::npos)
      << read_file(dir_->file("bad.log"));
  EXPECT_EQ(run_command({VNCGATE_BINARY, "play", path(), "--listen", "nowhere"}, dir_->file("bad.log"), 10s), 2);
}

}  // namespace
}  // namespace vncgate::test
