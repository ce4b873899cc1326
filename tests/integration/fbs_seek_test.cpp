// SPDX-License-Identifier: Apache-2.0
// Seeking with checkpoints against a real QEMU console. QEMU keeps one zlib stream per connection for ZRLE and
// four for Tight, so a checkpoint must carry their dictionaries; a lost window shows as garbage after a seek.
// The recorder records a ticking guest and pauses the VM three times (QMP "stop"); at each pause the picture
// QEMU itself holds (QMP screendump) is the oracle for any instant of that still stretch. Seeking into each
// stretch, from checkpoints built on the real stream, must give exactly the screendump: in the library and
// through `vncgate play --from` to `vncgate snapshot`.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <vector>

#include "fbs/checkpoints.hpp"
#include "fbs/replay.hpp"
#include "fbs/writer.hpp"
#include "rfb/blocking_client.hpp"
#include "rfb/encoding.hpp"
#include "support/image.hpp"
#include "support/process.hpp"
#include "support/qemu.hpp"

namespace vncgate::test {
namespace {

using namespace std::chrono_literals;
using framebuffer::PixelBuffer;

// A still stretch of the recording: the screen QEMU held from `converged_ms` (the recorder's picture matched
// the screendump) until at least `still_until_ms` (the VM went on after that).
struct Pause {
  PixelBuffer screendump;
  std::uint32_t converged_ms = 0;
  std::uint32_t still_until_ms = 0;
  std::uint32_t seek_ms() const { return converged_ms + (still_until_ms - converged_ms) / 2; }
};

struct Recording {
  std::string path;
  std::vector<Pause> pauses;
};

std::string encoding_label(rfb::Encoding e) { return rfb::encoding_name(static_cast<std::int32_t>(e)); }

class FbsSeek : public testing::TestWithParam<rfb::Encoding> {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>("vncgate-fbs-seek");
    guest_ = std::make_unique<QemuGuest>(QemuOptions{.mode = "tick", .extra_append = "vt.global_cursor_default=0"});
  }
  static void TearDownTestSuite() {
    recordings_.clear();
    guest_.reset();
    dir_.reset();
  }

  // Records the guest in the parameter's encoding (once per encoding): ~1.2 s of ticking, then a pause held
  // for 400 ms after the picture converged on the screendump, three times.
  static const Recording& recording(rfb::Encoding encoding) {
    auto& r = recordings_[encoding];
    if (!r.path.empty()) return r;
    r.path = dir_->file("seek-" + encoding_label(encoding) + ".fbs");
    const auto start = std::chrono::steady_clock::now();
    auto clock = [start] {
      return static_cast<std::uint32_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count());
    };
    rfb::ClientOptions options;
    options.encodings = {encoding, rfb::Encoding::raw};  // no quality level: lossless Tight (no JPEG)
    std::unique_ptr<fbs::LazyWriter> recorder;
    rfb::BlockingClient client(io::Endpoint{.url = guest_->vnc_url()}, options, 10s, [&](rfb::ClientConnection& c) {
      recorder = std::make_unique<fbs::LazyWriter>(c, r.path, clock);
    });
    client.full_update(10s);
    for (int k = 0; k < 3; ++k) {
      for (const auto until = std::chrono::steady_clock::now() + 1200ms; std::chrono::steady_clock::now() < until;)
        client.next_update(200ms);
      guest_->qmp().execute(R"({"execute":"stop"})");
      Pause pause;
      for (const auto until = std::chrono::steady_clock::now() + 15s; std::chrono::steady_clock::now() < until;) {
        client.next_update(300ms);
        pause.screendump = guest_->screendump();
        if (diff_summary(pause.screendump, client.framebuffer()).empty()) break;
      }
      EXPECT_EQ(diff_summary(pause.screendump, client.framebuffer()), "") << "never converged at pause " << k;
      pause.converged_ms = clock();
      client.pump(400ms);
      pause.still_until_ms = clock();
      guest_->qmp().execute(R"({"execute":"cont"})");
      r.pauses.push_back(std::move(pause));
    }
    client.next_update(1500ms);  // the recording goes on after the last pause
    recorder->close();
    client.close();
    return r;
  }

  // Checkpoints of the recording, every 300 ms of changing screen (a seconds-long recording decodes in far
  // less than the default 25 ms between checkpoints); the existing sidecar when there is one.
  static std::vector<fbs::Checkpoint> build_checkpoints(const Recording& rec) {
    fbs::ReplayOptions build;
    build.checkpoints = fbs::checkpoints_path_for(rec.path);
    build.build_checkpoints = true;
    build.checkpoint_every_ms = 300;
    build.checkpoint_every_decode_ms = 0;
    const auto built = fbs::Replay(fbs::Reader::open(rec.path), build).run([](const fbs::Frame&) { return true; });
    EXPECT_TRUE(built.ok()) << built.read.message << built.decode_error;
    return fbs::list_checkpoints(build.checkpoints);
  }

  static std::unique_ptr<TempDir> dir_;
  static std::unique_ptr<QemuGuest> guest_;
  static std::map<rfb::Encoding, Recording> recordings_;
};
std::unique_ptr<TempDir> FbsSeek::dir_;
std::unique_ptr<QemuGuest> FbsSeek::guest_;
std::map<rfb::Encoding, Recording> FbsSeek::recordings_;

// The library: checkpoints built on QEMU's stream (one every 300 ms of changing screen, so each pause has
// several before it), then a seek into every pause restores the last one before it and shows the screendump.
TEST_P(FbsSeek, SeekFromCheckpointsShowsTheScreendump) {
  const auto& rec = recording(GetParam());
  ASSERT_EQ(rec.pauses.size(), 3u);
  for (std::size_t k = 1; k < rec.pauses.size(); ++k)
    ASSERT_NE(diff_summary(rec.pauses[k - 1].screendump, rec.pauses[k].screendump), "")
        << "the guest ticked between pauses " << k - 1 << " and " << k;
  const auto list = build_checkpoints(rec);
  ASSERT_GE(list.size(), 3u);

  fbs::ReplayOptions use;
  use.checkpoints = fbs::checkpoints_path_for(rec.path);
  for (std::size_t k = 0; k < rec.pauses.size(); ++k) {
    const auto& pause = rec.pauses[k];
    SCOPED_TRACE("pause " + std::to_string(k) + " seek to " + std::to_string(pause.seek_ms()) + " ms");
    PixelBuffer seen;
    const auto result =
        fbs::Replay(fbs::Reader::open(rec.path), use).run(pause.seek_ms(), pause.seek_ms(), [&](const fbs::Frame& f) {
          seen = f.pixels;
          return false;
        });
    EXPECT_TRUE(result.ok()) << result.read.message << result.decode_error;
    ASSERT_TRUE(result.resumed_at_ms.has_value()) << "no checkpoint before the pause";
    EXPECT_LE(*result.resumed_at_ms, pause.seek_ms());
    if (k > 0) {  // the guest ticked since the previous pause: a checkpoint after it, deep in the zlib streams
      EXPECT_GT(*result.resumed_at_ms, rec.pauses[k - 1].converged_ms) << "resumed from an early checkpoint";
    }
    EXPECT_EQ(diff_summary(pause.screendump, seen), "") << "seeked picture vs QMP screendump";
  }
}

// From every checkpoint the recording plays on to each later pause's screendump: decoding after a restore
// back-references QEMU's dictionaries from before the checkpoint, so a window saved wrong shows here.
TEST_P(FbsSeek, EveryCheckpointPlaysOnToTheLaterScreendumps) {
  const auto& rec = recording(GetParam());
  const auto list = build_checkpoints(rec);
  fbs::ReplayOptions use;
  use.checkpoints = fbs::checkpoints_path_for(rec.path);
  int checked = 0;
  for (const auto& checkpoint : list) {
    for (std::size_t k = 0; k < rec.pauses.size(); ++k) {
      const auto& pause = rec.pauses[k];
      if (checkpoint.ms >= pause.converged_ms) continue;
      SCOPED_TRACE("from the checkpoint at " + std::to_string(checkpoint.ms) + " ms to pause " + std::to_string(k));
      PixelBuffer seen;
      const auto result =
          fbs::Replay(fbs::Reader::open(rec.path), use).run(checkpoint.ms, pause.seek_ms(), [&](const fbs::Frame& f) {
            seen = f.pixels;
            return true;
          });
      EXPECT_TRUE(result.ok()) << result.read.message << result.decode_error;
      EXPECT_EQ(result.resumed_at_ms, std::optional<std::uint32_t>(checkpoint.ms));
      EXPECT_EQ(diff_summary(pause.screendump, seen), "");
      ++checked;
    }
  }
  std::printf("%s: %zu checkpoints, %d checkpoint-to-pause replays\n", encoding_label(GetParam()).c_str(), list.size(),
              checked);
  EXPECT_GE(checked, 3);
}

// The CLI: `vncgate play --from` restores the checkpoint before each pause (a debug line says so) and what
// `vncgate snapshot` receives is the screendump of that pause.
TEST_P(FbsSeek, PlayFromResumesFromCheckpoints) {
  const auto& rec = recording(GetParam());
  const auto list = build_checkpoints(rec);
  ASSERT_FALSE(list.empty());
  for (std::size_t k = 0; k < rec.pauses.size(); ++k) {
    const auto& pause = rec.pauses[k];
    SCOPED_TRACE("pause " + std::to_string(k));
    ASSERT_LE(list.front().ms, pause.seek_ms());
    const int port = free_port();
    const auto log = dir_->file("play.log");
    Process play({VNCGATE_BINARY, "-v", "play", rec.path, "--listen", "127.0.0.1:" + std::to_string(port), "--from",
                  std::to_string(pause.seek_ms() / 1000.0), "--speed", "0.001"},
                 log);
    ASSERT_TRUE(wait_for_port(port, 20s)) << read_file(log);
    const auto png = dir_->file("seek.png");
    ASSERT_EQ(run_command({VNCGATE_BINARY, "snapshot", "vnc://127.0.0.1:" + std::to_string(port), png},
                          dir_->file("snap.log"), 30s),
              0)
        << read_file(dir_->file("snap.log")) << read_file(log);
    EXPECT_EQ(diff_summary(pause.screendump, load_png(png)), "") << read_file(log);
    EXPECT_NE(read_file(log).find("resumed from the checkpoint at"), std::string::npos) << read_file(log);
  }
}

INSTANTIATE_TEST_SUITE_P(Encodings, FbsSeek, testing::Values(rfb::Encoding::tight, rfb::Encoding::zrle),
                         [](const testing::TestParamInfo<rfb::Encoding>& info) { return encoding_label(info.param); });

}  // namespace
}  // namespace vncgate::test
