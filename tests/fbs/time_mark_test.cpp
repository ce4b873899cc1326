// SPDX-License-Identifier: Apache-2.0
// How long a recording was (docs/fbs.md §2): time marks while the screen is still and at the end make the
// file's last timestamp the moment the recording stopped — also after a SIGKILL — and the reader, replay,
// index, seeking and convert agree on it.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fbs/fbs_test_util.hpp"
#include "fbs/index.hpp"
#include "fbs/reader.hpp"
#include "fbs/replay.hpp"
#include "fbs/writer.hpp"
#include "record/convert.hpp"
#include "rfb/client_connection.hpp"

namespace vncgate::fbs {
namespace {

using namespace test;
using framebuffer::Rect;

// A 16x8 console recorded through ClientConnection's tap: one full update at 50 ms, then nothing — the
// recorder's capture ticks every 100 ms.
class StillRecording : public testing::Test {
 protected:
  void SetUp() override {
    conn_.feed(hello_38_none(16, 8).bytes);
    ASSERT_TRUE(conn_.ready());
    writer_ = std::make_unique<Writer>(path_, conn_.server_init(), conn_.converter().format());
    conn_.set_tap(writer_->tap_for(conn_, [this] { return now_; }));
    feed_at(50, raw_update({0, 0, 16, 8}, 0x336699));
    ASSERT_TRUE(conn_.frame_complete());
  }

  void feed_at(std::uint32_t ms, std::span<const std::uint8_t> bytes) {
    now_ = ms;
    conn_.feed(bytes);
  }
  void tick_until(std::uint32_t ms) {
    for (; now_ + 100 <= ms; now_ += 100) writer_->tick();
    now_ = ms;
  }

  std::vector<std::pair<std::uint32_t, std::size_t>> blocks() const {  // (ms, data bytes)
    auto reader = Reader::open(path_);
    std::vector<std::pair<std::uint32_t, std::size_t>> out;
    while (auto b = reader.next()) out.emplace_back(b->ms, b->data.size());
    return out;
  }

  ScratchDir dir_;
  std::string path_ = dir_.file("still.fbs");
  rfb::ClientConnection conn_{rfb::ClientOptions{}};
  std::unique_ptr<Writer> writer_;
  std::uint32_t now_ = 0;
};

// The reported defect: the file ended at its last update (50 ms), not when the recording stopped.
TEST_F(StillRecording, CloseMarksTheEnd) {
  now_ = 3000;
  writer_->close();
  const auto summary = summarize(Reader::open(path_));
  EXPECT_EQ(summary.duration_ms, 3000u);
  EXPECT_FALSE(summary.status.damaged()) << summary.status.message;
  ReplayResult result;
  std::vector<std::uint32_t> frames;
  result = Replay(Reader::open(path_)).run([&](const Frame& f) {
    frames.push_back(f.ms);
    return true;
  });
  EXPECT_TRUE(result.ok());
  EXPECT_EQ(result.last_ms, 3000u);
  EXPECT_EQ(frames, (std::vector<std::uint32_t>{0, 50})) << "a time mark paints nothing: no frame";
}

TEST_F(StillRecording, TicksWriteAMarkPerIdleSecond_AnEmptyUpdateInABlockOfItsOwn) {
  tick_until(3000);
  writer_->close();
  const auto list = blocks();
  ASSERT_EQ(list.size(), 5u);
  EXPECT_EQ(list[1], (std::pair<std::uint32_t, std::size_t>{50, 4 + 12 + 16 * 8 * 4}));
  EXPECT_EQ(list[2], (std::pair<std::uint32_t, std::size_t>{1050, 4}));
  EXPECT_EQ(list[3], (std::pair<std::uint32_t, std::size_t>{2050, 4}));
  EXPECT_EQ(list[4], (std::pair<std::uint32_t, std::size_t>{3000, 4}));
  const auto bytes = read_bytes(path_);
  EXPECT_EQ(std::vector<std::uint8_t>(bytes.end() - 12, bytes.end()),
            (std::vector<std::uint8_t>{0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0x0b, 0xb8}))
      << "length 4, FramebufferUpdate with 0 rectangles, 3000 ms";
}

TEST_F(StillRecording, IndexAndSeekingAgreeWithTheEnd) {
  tick_until(3000);
  writer_->close();
  const auto index = read_index(index_path_for(path_));
  std::vector<std::uint32_t> times;
  for (const auto& e : index) times.push_back(e.ms);
  EXPECT_EQ(times, (std::vector<std::uint32_t>{50, 1050, 2050, 3000}));
  EXPECT_EQ(index.back().offset, read_bytes(path_).size());
  EXPECT_EQ(index.back().flags & kIndexScreenPainted, kIndexScreenPainted);
  // Every entry is a block start; reading on from it ends where the whole file ends.
  for (const auto& e : index) {
    auto reader = Reader::open(path_);
    reader.seek(e.offset, e.ms);
    std::uint32_t last = e.ms;
    while (auto b = reader.next()) last = b->ms;
    EXPECT_EQ(reader.status().reason, StopReason::end) << e.ms;
    EXPECT_EQ(last, 3000u) << e.ms;
  }
  // Seeking into the quiet tail: the final picture at the wanted time, and the recording goes on to 3000.
  EXPECT_EQ(entry_before(index, 2500)->ms, 2050u);
  std::vector<std::uint32_t> frames;
  const auto result = Replay(Reader::open(path_)).run(2500, UINT32_MAX, [&](const Frame& f) {
    frames.push_back(f.ms);
    EXPECT_EQ(f.pixels.at(15, 7), 0x336699u);
    return true;
  });
  EXPECT_EQ(frames, (std::vector<std::uint32_t>{2500}));
  EXPECT_EQ(result.last_ms, 3000u);
  // A stop before the end: the recording went on past it.
  EXPECT_EQ(Replay(Reader::open(path_)).run(0, 1500, [](const Frame&) { return true; }).last_ms, 1500u);
}

TEST_F(StillRecording, NoMarkInsideAMessage) {
  const auto update = raw_update({0, 0, 16, 8}, 0xff0000);
  feed_at(100, std::span(update).first(40));  // the server stalls inside the update's rectangle
  tick_until(2500);
  EXPECT_FALSE(writer_->mark_time(2500));
  // The update's header (the rectangle is not whole yet) went out once it was block_ms old; no mark after it.
  EXPECT_EQ(blocks().back(), (std::pair<std::uint32_t, std::size_t>{100, 4}));
  feed_at(2600, std::span(update).subspan(40));
  tick_until(3000);
  writer_->close();
  ReplayResult result;
  std::vector<std::uint32_t> frames;
  result = Replay(Reader::open(path_)).run([&](const Frame& f) {
    frames.push_back(f.ms);
    return true;
  });
  EXPECT_TRUE(result.ok()) << result.decode_error;
  EXPECT_EQ(frames, (std::vector<std::uint32_t>{0, 50, 2600}));
  EXPECT_EQ(result.last_ms, 3000u);
  // Written by hand, a stream whose end is unknown gets no mark either.
  Writer raw(dir_.file("raw.fbs"), conn_.server_init(), conn_.converter().format());
  raw.append(std::vector<std::uint8_t>{0, 0, 0}, 10);
  EXPECT_FALSE(raw.mark_time(20));
  raw.append(std::vector<std::uint8_t>{0}, 10);
  raw.update_boundary(10, false);
  EXPECT_TRUE(raw.mark_time(20));
}

// The recorder killed at 2500 ms: the file ends cleanly at the last mark (2050 ms), and so does the index.
TEST_F(StillRecording, SigkillKeepsTheLengthUpToTheLastMark) {
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    tick_until(2500);
    raise(SIGKILL);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));
  const auto summary = summarize(Reader::open(path_));
  EXPECT_EQ(summary.duration_ms, 2050u);
  EXPECT_EQ(summary.status.reason, StopReason::end) << summary.status.message;
  EXPECT_EQ(read_index(index_path_for(path_)).back().ms, 2050u);
  // Cut inside the last mark (killed while writing it): that mark is lost, the one before holds.
  const auto bytes = read_bytes(path_);
  const auto cut = summarize(Reader::from_bytes({bytes.begin(), bytes.end() - 5}));
  EXPECT_EQ(cut.status.reason, StopReason::truncated);
  EXPECT_EQ(cut.duration_ms, 1050u);
}

TEST_F(StillRecording, ConvertLastsUntilTheEndFromTheFirstPaintedScreen) {
  tick_until(3000);
  writer_->close();
  record::ConvertOptions options;
  options.encoder.lossless = true;
  const auto whole = record::convert_fbs(path_, dir_.file("whole.mp4"), options);
  EXPECT_EQ(whole.duration_ms, 2950);  // 50 ms (first painted screen) to 3000 ms
  EXPECT_EQ(whole.damage, "");
  options.from_ms = 2000;
  EXPECT_EQ(record::convert_fbs(path_, dir_.file("tail.mp4"), options).duration_ms, 1000);
  options.from_ms = 0;
  options.to_ms = 1500;
  EXPECT_EQ(record::convert_fbs(path_, dir_.file("head.mp4"), options).duration_ms, 1450);
}

// A picture 30 ms before the end lasts those 30 ms: with the end known, no frame period is added.
TEST_F(StillRecording, ConvertEndsAtTheMarkEvenRightAfterAFrame) {
  tick_until(2970);
  feed_at(2970, raw_update({0, 0, 4, 4}, 0xffffff));
  now_ = 3000;
  writer_->close();
  record::ConvertOptions options;
  options.encoder.lossless = true;
  EXPECT_EQ(record::convert_fbs(path_, dir_.file("late.mp4"), options).duration_ms, 2950);
}

// Files from before time marks (and other writers' files) still read: they end at their last block.
TEST(FbsTimeMark, FilesWithoutMarksEndAtTheirLastBlock) {
  Wire init = hello_38_none(16, 8);
  init.bytes.erase(init.bytes.begin(), init.bytes.begin() + 12 + 6);
  Wire prologue;
  text(prologue, "RFB 003.003\n").u32(1).raw(init.bytes);
  std::vector<std::uint8_t> file(kMagic001.begin(), kMagic001.end());
  add_block(file, prologue.bytes, 0);
  add_block(file, raw_update({0, 0, 16, 8}, 0x336699), 50);
  EXPECT_EQ(summarize(Reader::from_bytes(file)).duration_ms, 50u);
  const auto result = Replay(Reader::from_bytes(file)).run([](const Frame&) { return true; });
  EXPECT_TRUE(result.ok());
  EXPECT_EQ(result.last_ms, 50u);
  // rfbproxy's timestamped end marker (a zero-length block) counts as the end.
  add_block(file, {}, 4000);
  EXPECT_EQ(Replay(Reader::from_bytes(file)).run([](const Frame&) { return true; }).last_ms, 4000u);
}

}  // namespace
}  // namespace vncgate::fbs
