// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>

#include "fbs/fbs_test_util.hpp"
#include "fbs/index.hpp"
#include "fbs/reader.hpp"
#include "fbs/replay.hpp"
#include "fbs/writer.hpp"
#include "rfb/client_connection.hpp"
#include "rfb/server_connection.hpp"
#include "util/error.hpp"

namespace vncgate::fbs {
namespace {

using namespace test;
using framebuffer::PixelBuffer;
using framebuffer::Rect;

// Records a synthetic 8x4 session through ClientConnection's tap: updates at 100, 1500 and 2600 ms, the last
// one arriving in two pieces, so blocks are not message aligned.
class FbsRoundTrip : public testing::Test {
 protected:
  void SetUp() override {
    conn_.feed(hello_38_none(8, 4).bytes);
    ASSERT_TRUE(conn_.ready());
    writer_ = std::make_unique<Writer>(path_, conn_.server_init(), conn_.converter().format());
    conn_.set_tap(writer_->tap_for(conn_, [this] { return now_; }));
    feed_at(100, raw_update({0, 0, 8, 4}, 0x102030));
    after_first_ = conn_.framebuffer();
    feed_at(1500, raw_update({1, 1, 2, 2}, 0xff0000));
    after_second_ = conn_.framebuffer();
    const auto third = raw_update({4, 0, 4, 4}, 0x00ff00);
    feed_at(2590, std::span(third).first(30));
    feed_at(2600, std::span(third).subspan(30));
    writer_->close();
  }

  void feed_at(std::uint32_t ms, std::span<const std::uint8_t> bytes) {
    now_ = ms;
    conn_.feed(bytes);
  }

  ScratchDir dir_;
  std::string path_ = dir_.file("session.fbs");
  rfb::ClientConnection conn_{rfb::ClientOptions{}};
  std::unique_ptr<Writer> writer_;
  std::uint32_t now_ = 0;
  PixelBuffer after_first_, after_second_;
};

TEST_F(FbsRoundTrip, ReplayReproducesEveryFrameAtItsTime) {
  ReplayResult result;
  const auto frames = replay_frames(Reader::open(path_), 0, &result);
  EXPECT_TRUE(result.ok()) << result.read.message << result.decode_error;
  ASSERT_EQ(frames.size(), 4u);  // the screen at 0 ms (black), then one per update
  EXPECT_EQ(frames[0].ms, 0u);
  EXPECT_EQ(frames[0].damage, (Rect{0, 0, 8, 4}));
  EXPECT_EQ(frames[1].ms, 100u);
  EXPECT_TRUE(
      std::equal(frames[1].pixels.pixels().begin(), frames[1].pixels.pixels().end(), after_first_.pixels().begin()));
  EXPECT_EQ(frames[2].ms, 1500u);
  EXPECT_EQ(frames[2].damage, (Rect{1, 1, 2, 2}));
  EXPECT_EQ(frames[3].ms, 2600u);
  const auto& last = frames[3].pixels;
  EXPECT_TRUE(std::equal(last.pixels().begin(), last.pixels().end(), conn_.framebuffer().pixels().begin()));
  EXPECT_EQ(result.last_ms, 2600u);
}

TEST_F(FbsRoundTrip, FileStartsWithHeaderAndSelfDescribingPrologue) {
  const auto bytes = read_bytes(path_);
  ASSERT_GT(bytes.size(), 60u);
  EXPECT_EQ(std::string(bytes.begin(), bytes.begin() + 12), "FBS 001.001\n");
  EXPECT_EQ(std::string(bytes.begin() + 16, bytes.begin() + 28), "RFB 003.003\n");
  EXPECT_EQ(get_u32(bytes.data() + 28), 1u);  // security None, RFB 3.3 style
  EXPECT_EQ(rfb::PixelFormat::parse(bytes.data() + 36), rfb::PixelFormat::canonical());
}

TEST_F(FbsRoundTrip, SeekingStartsAtTheScreenAsItWasThen) {
  const auto frames = replay_frames(Reader::open(path_), 1600);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].ms, 1600u);
  EXPECT_TRUE(
      std::equal(frames[0].pixels.pixels().begin(), frames[0].pixels.pixels().end(), after_second_.pixels().begin()));
  EXPECT_EQ(frames[1].ms, 2600u);
  // Beyond the end: the final picture, once.
  const auto late = replay_frames(Reader::open(path_), 99999);
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0].ms, 2600u);
}

TEST_F(FbsRoundTrip, FinalFrameStopsAtTime) {
  const auto at = final_frame(Reader::open(path_), 1500);
  EXPECT_TRUE(std::equal(at.pixels().begin(), at.pixels().end(), after_second_.pixels().begin()));
}

// A thumbnail at t: the picture then, but only from a file that reaches t (it ends at 2600 ms; a still
// screen's last mark may be a mark interval old).
TEST_F(FbsRoundTrip, PictureAtIsTheScreenThenWhereTheRecordingReaches) {
  const auto at = picture_at(Reader::open(path_), 1500);
  ASSERT_TRUE(at);
  EXPECT_TRUE(std::equal(at->pixels().begin(), at->pixels().end(), after_second_.pixels().begin()));
  const auto near_end = picture_at(Reader::open(path_), 3600);
  ASSERT_TRUE(near_end);
  EXPECT_TRUE(std::equal(near_end->pixels().begin(), near_end->pixels().end(), conn_.framebuffer().pixels().begin()));
  EXPECT_FALSE(picture_at(Reader::open(path_), 3601));
  EXPECT_FALSE(picture_at(Reader::open(path_), 2700, {}, INT_MAX, 0));
  const auto narrow = picture_at(Reader::open(path_), 1500, {}, 4);  // 8 wide: every other pixel
  ASSERT_TRUE(narrow);
  EXPECT_EQ(narrow->width(), 4);
  EXPECT_EQ(narrow->at(1, 1), after_second_.at(2, 2));
}

TEST_F(FbsRoundTrip, IndexPointsAtUpdateBoundariesOncePerSecondAndAtTheEnd) {
  const auto index = read_index(index_path_for(path_));
  ASSERT_EQ(index.size(), 4u);
  EXPECT_EQ(index[0].ms, 100u);
  EXPECT_EQ(index[0].flags & kIndexScreenPainted, kIndexScreenPainted);
  EXPECT_EQ(index[1].ms, 1500u);
  EXPECT_EQ(index[2].ms, 2600u);
  EXPECT_EQ(index[2].offset + 12, read_bytes(path_).size());  // then the end's time mark (a 12-byte block)
  EXPECT_EQ(index[3].ms, 2600u);
  EXPECT_EQ(index[3].offset, read_bytes(path_).size());  // after the last block
  auto reader = Reader::open(path_);
  reader.seek(index[0].offset, index[0].ms);
  auto next = reader.next();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->data[0], 0);  // a FramebufferUpdate message starts the block
  EXPECT_EQ(next->ms, 1500u);
  EXPECT_EQ(entry_before(index, 2000)->ms, 1500u);
  EXPECT_FALSE(entry_before(index, 99));
}

TEST_F(FbsRoundTrip, TornIndexRecordIsDropped) {
  auto bytes = read_bytes(index_path_for(path_));
  bytes.resize(bytes.size() - 3);
  EXPECT_EQ(parse_index(bytes)->size(), 3u);
  bytes[0] = 'X';
  EXPECT_FALSE(parse_index(bytes));
}

TEST_F(FbsRoundTrip, TruncationAtEveryOffsetNeverThrowsAndKeepsEarlierFrames) {
  const auto full = read_bytes(path_);
  std::size_t previous_frames = 0;
  for (std::size_t n = 0; n < full.size(); ++n) {
    std::vector<std::uint8_t> prefix(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    if (n < kMagicSize) {
      EXPECT_THROW(Reader::from_bytes(prefix), ProtocolError) << n;
      continue;
    }
    ReplayResult result;
    const auto frames = replay_frames(Reader::from_bytes(prefix), 0, &result);
    EXPECT_TRUE(result.decode_error.empty()) << n << ": " << result.decode_error;
    EXPECT_GE(frames.size(), previous_frames) << n;
    previous_frames = frames.size();
    if (result.read.reason == StopReason::truncated) {
      EXPECT_TRUE(result.read.damaged());
    }
  }
  EXPECT_EQ(previous_frames, 4u);  // only the end's time mark is cut off in the longest prefixes
}

// A ZRLE session (one zlib stream across updates) in rgb565 served by our ServerConnection: the replayed
// picture equals the viewer's at every update, so the pinned format and the zlib state survive the file.
TEST(FbsRoundTrip_Zrle, StatefulStreamInPinnedFormatReplaysExactly) {
  ScratchDir dir;
  const auto path = dir.file("zrle.fbs");
  PixelBuffer fb(100, 70);
  rfb::ServerConnection server({}, fb.width(), fb.height());
  rfb::ClientOptions options;
  options.pixel_format = rfb::PixelFormat::rgb565();
  options.encodings = {rfb::Encoding::zrle, rfb::Encoding::desktop_size};
  rfb::ClientConnection client(options);
  std::unique_ptr<Writer> writer;
  std::uint32_t now = 0;
  std::vector<PixelBuffer> seen;
  auto pump = [&] {
    for (int i = 0; i < 20; ++i) {
      server.feed(client.take_output());
      server.send_update(fb);
      client.feed(server.take_output());
      if (client.ready() && !writer) {
        writer = std::make_unique<Writer>(path, client.server_init(), client.converter().format());
        client.set_tap(writer->tap_for(client, [&] { return now; }));
      }
    }
  };
  for (int step = 0; step < 5; ++step) {
    now = 400 * step;
    const Rect r{step * 7, step * 5, 60, 40};
    for (int y = r.y; y < r.bottom(); ++y)
      for (int x = r.x; x < r.right(); ++x)
        fb.row(y)[x] = framebuffer::make_pixel(x * 3 + step * 40, y * 4, (x ^ y) * step);
    server.framebuffer_changed(r);
    if (step > 0) client.request_update(true);
    pump();
    seen.push_back(client.framebuffer());
  }
  writer->close();
  const auto frames = replay_frames(Reader::open(path));
  ASSERT_EQ(frames.size(), 5u);  // the update at 0 ms is part of the picture at 0 ms
  for (std::size_t i = 0; i < seen.size(); ++i)
    EXPECT_TRUE(std::equal(seen[i].pixels().begin(), seen[i].pixels().end(), frames[i].pixels.pixels().begin())) << i;
}

TEST(FbsWriter_Blocks, CutBySizeAndAgeAndSplitWhenHuge) {
  ScratchDir dir;
  const auto path = dir.file("blocks.fbs");
  rfb::ServerInit init;
  init.width = 2;
  init.height = 2;
  {
    WriterOptions options;
    options.block_bytes = 1000;
    Writer w(path, init, rfb::PixelFormat::canonical(), options);
    const std::vector<std::uint8_t> small(10, 7), big(3u << 20, 9);
    w.append(small, 0);
    w.append(small, 50);   // same block (50 ms old)
    w.append(small, 120);  // block is now 120 ms old: cut
    w.append(small, 130);
    w.append(std::vector<std::uint8_t>(995, 1), 131);  // reaches 1000 bytes: cut
    w.append(big, 140);                                // 3 MiB: split into 1 MiB blocks
    w.append(small, 90);                               // older than the last: raised to 140
  }
  auto r = Reader::open(path);
  std::vector<std::pair<std::size_t, std::uint32_t>> blocks;
  while (auto b = r.next()) blocks.emplace_back(b->data.size(), b->ms);
  EXPECT_EQ(r.status().reason, StopReason::end);
  const std::vector<std::pair<std::size_t, std::uint32_t>> expected{
      {40, 0}, {30, 120}, {1005, 131}, {1u << 20, 140}, {1u << 20, 140}, {1u << 20, 140}, {10, 140}};
  EXPECT_EQ(blocks, expected);
}

// Every completed block reaches the OS at once: a SIGKILL loses only the block still being filled.
TEST(FbsWriter_Crash, SigkillLosesOnlyTheOpenBlock) {
  ScratchDir dir;
  const auto path = dir.file("killed.fbs");
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    Writer w(path, rfb::ServerInit{}, rfb::PixelFormat::canonical());
    w.append(std::vector<std::uint8_t>(10, 1), 5);
    w.update_boundary(10, true);
    w.append(std::vector<std::uint8_t>(10, 2), 20);  // open block: lost
    raise(SIGKILL);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));
  auto reader = Reader::open(path);
  std::vector<std::uint32_t> times;
  while (auto b = reader.next()) times.push_back(b->ms);
  EXPECT_EQ(reader.status().reason, StopReason::end);
  EXPECT_EQ(times, (std::vector<std::uint32_t>{0, 10}));
  EXPECT_EQ(read_index(index_path_for(path)).size(), 1u);
}

TEST(FbsWriter_Blocks, FlushWritesTheOpenBlockWhileRecording) {
  ScratchDir dir;
  const auto path = dir.file("open.fbs");
  Writer w(path, rfb::ServerInit{}, rfb::PixelFormat::canonical());
  w.append(std::vector<std::uint8_t>{2, 0, 0}, 30);  // e.g. a Bell and nothing after it
  w.flush();
  auto reader = Reader::open(path);
  std::vector<std::uint32_t> times;
  while (auto b = reader.next()) times.push_back(b->ms);
  EXPECT_EQ(times, (std::vector<std::uint32_t>{0, 30}));
  EXPECT_EQ(w.bytes_written(), read_bytes(path).size());
}

TEST(FbsWriter_Errors, UnwritablePathThrowsIoError) {
  EXPECT_THROW(Writer("/nonexistent-dir/x.fbs", rfb::ServerInit{}, rfb::PixelFormat::canonical()), IoError);
}

// FBS 001.000 as vncproxy writes it: the same prologue shape, but blocks cut anywhere.
TEST(FbsReplay_Version000, VncproxyFileWithRgb565ServerInit) {
  Wire stream;
  text(stream, "RFB 003.003\n").u32(1);
  server_init(stream, 2, 1, rfb::PixelFormat::rgb565(), "vncproxy");
  stream.u8(0).u8(0).u16(1).u16(0).u16(0).u16(2).u16(1).u32(0).u8(0x00).u8(0xf8).u8(0x1f).u8(0x00);
  std::vector<std::uint8_t> file(kMagic000.begin(), kMagic000.end());
  add_block(file, {stream.bytes.begin(), stream.bytes.begin() + 7}, 0);
  add_block(file, {stream.bytes.begin() + 7, stream.bytes.end() - 3}, 10);
  add_block(file, {stream.bytes.end() - 3, stream.bytes.end()}, 20);
  const auto frame = final_frame(Reader::from_bytes(file));
  EXPECT_EQ(frame.at(0, 0), 0xff0000u);
  EXPECT_EQ(frame.at(1, 0), 0x0000ffu);
}

// FBS 001.000 as rfbproxy records a real server: RFB 3.3 with VNC Authentication in the stream, and pixels
// in the format the viewer asked for (not recorded), given as a replay option.
TEST(FbsReplay_Version000, RfbproxyFileWithVncAuthAndViewerFormat) {
  Wire stream;
  text(stream, "RFB 003.003\n").u32(2);
  for (int i = 0; i < 16; ++i) stream.u8(i);  // challenge
  stream.u32(0);                              // SecurityResult OK
  server_init(stream, 1, 1, rfb::PixelFormat::canonical(), "rfbproxy");
  stream.u8(0).u8(0).u16(1).u16(0).u16(0).u16(1).u16(1).u32(0).u8(0xe0).u8(0x07);  // rgb565 green
  std::vector<std::uint8_t> file(kMagic000.begin(), kMagic000.end());
  add_block(file, stream.bytes, 0);
  ReplayOptions options;
  options.pixel_format = rfb::PixelFormat::rgb565();
  const auto frame = final_frame(Reader::from_bytes(file), UINT32_MAX, options);
  EXPECT_EQ(frame.at(0, 0), 0x00ff00u);
}

TEST(FbsReplay_Errors, MalformedStreamStopsWithFramesKept) {
  Wire stream = hello_38_none(1, 1);
  stream.bytes.erase(stream.bytes.begin(), stream.bytes.begin() + 12 + 6);  // keep the ServerInit only
  Wire prologue;
  text(prologue, "RFB 003.003\n").u32(1).raw(stream.bytes);
  std::vector<std::uint8_t> file(kMagic001.begin(), kMagic001.end());
  add_block(file, prologue.bytes, 0);
  add_block(file, raw_update({0, 0, 1, 1}, 0xabcdef), 5);
  add_block(file, {77}, 6);  // no such server message
  ReplayResult result;
  const auto frames = replay_frames(Reader::from_bytes(file), 0, &result);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[1].pixels.at(0, 0), 0xabcdefu);
  EXPECT_FALSE(result.ok());
  EXPECT_NE(result.decode_error.find("unknown server message type 77"), std::string::npos) << result.decode_error;
}

TEST(FbsReplay_Errors, NoPictureThrowsFromFinalFrame) {
  std::vector<std::uint8_t> file(kMagic001.begin(), kMagic001.end());
  add_block(file, {'R', 'F', 'B'}, 0);
  EXPECT_THROW(final_frame(Reader::from_bytes(file)), ProtocolError);
}

}  // namespace
}  // namespace vncgate::fbs
