// SPDX-License-Identifier: Apache-2.0
// convert in parts (several cores): the joined video shows the same picture at every instant as the one-piece
// conversion, lasts as long, and a damaged recording ends where the one-piece conversion ends.
#include "record/convert.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>

#include "fbs/checkpoints.hpp"
#include "fbs/fbs_test_util.hpp"
#include "fbs/index.hpp"
#include "fbs/replay.hpp"
#include "fbs/writer.hpp"
#include "record/mp4_frame.hpp"
#include "rfb/client_connection.hpp"

namespace vncgate::record {
namespace {

using fbs::test::hello_38_none;
using fbs::test::raw_update;
using fbs::test::ScratchDir;

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

framebuffer::PixelBuffer picture_at(const std::string& mp4, double seconds) {
  const auto bytes = file_bytes(mp4);
  RangeSource source{bytes.size(), [&bytes](std::uint64_t offset, std::span<std::uint8_t> into) {
                       const auto n = std::min<std::uint64_t>(into.size(), bytes.size() - offset);
                       std::memcpy(into.data(), bytes.data() + offset, n);
                       return static_cast<std::size_t>(n);
                     }};
  return mp4_frame_at(source, seconds);
}

// The video's length as FFmpeg's own demuxer reads it (the last frame's timestamp plus its duration).
double probed_seconds(const std::string& mp4) {
  const std::string command =
      "ffprobe -v error -select_streams v -show_entries stream=duration -of csv=p=0 '" + mp4 + "'";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
  char line[64] = {};
  if (!pipe || !std::fgets(line, sizeof line, pipe.get())) return -1;
  return std::atof(line);
}

// The colour of every pixel (the fourth byte of a canonical pixel is padding).
bool same_pixels(const framebuffer::PixelBuffer& a, const framebuffer::PixelBuffer& b) {
  if (a.width() != b.width() || a.height() != b.height()) return false;
  for (int y = 0; y < a.height(); ++y)
    for (int x = 0; x < a.width(); ++x)
      if ((a.at(x, y) ^ b.at(x, y)) & 0xffffffu) return false;
  return true;
}

// 65 s of a 64x48 console recorded through ClientConnection's tap: a full paint at 50 ms, then a 16x16 square
// of a new colour every 700 ms somewhere else, the capture ticking every 100 ms (time marks while still).
class LongRecording : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new ScratchDir;
    screens_ = new std::map<std::uint32_t, framebuffer::PixelBuffer>;
    rfb::ClientConnection conn{rfb::ClientOptions{}};
    conn.feed(hello_38_none(64, 48).bytes);
    std::uint32_t now = 0;
    fbs::Writer writer(path(), conn.server_init(), conn.converter().format());
    conn.set_tap(writer.tap_for(conn, [&now] { return now; }));
    now = 50;
    conn.feed(raw_update({0, 0, 64, 48}, 0x203040));
    for (int step = 1; now + 100 <= kLengthMs; ++step) {
      now += 100;
      writer.tick();
      if (step % 7 == 0) {
        const int k = step / 7;
        conn.feed(raw_update({(k % 4) * 16, (k % 3) * 16, 16, 16}, 0x101010u * static_cast<std::uint32_t>(k % 15) +
                                                                       0x400000u * static_cast<std::uint32_t>(k % 3)));
        screens_->emplace(now, conn.framebuffer());
      }
    }
    now = kLengthMs;
    writer.close();
  }
  static void TearDownTestSuite() {
    delete dir_;
    delete screens_;
  }
  static std::string path() { return dir_->file("long.fbs"); }

  static ConvertResult convert(const std::string& input, const std::string& output, int threads,
                               bool checkpoints = true, std::uint32_t from_ms = 0) {
    ConvertOptions options;
    options.encoder.lossless = true;  // equal pictures are equal pixels
    options.threads = threads;
    options.checkpoints = checkpoints;
    options.from_ms = from_ms;
    return convert_fbs(input, output, options);
  }

  static constexpr std::uint32_t kLengthMs = 65000;
  static ScratchDir* dir_;
  static std::map<std::uint32_t, framebuffer::PixelBuffer>* screens_;  // the decoder's picture after each update
};
ScratchDir* LongRecording::dir_ = nullptr;
std::map<std::uint32_t, framebuffer::PixelBuffer>* LongRecording::screens_ = nullptr;

TEST_F(LongRecording, PartsJoinIntoTheSameVideoAsOnePiece) {
  ASSERT_FALSE(fbs::read_index(fbs::index_path_for(path())).empty());
  const auto whole = convert(path(), dir_->file("whole.mp4"), 1);
  const auto parts = convert(path(), dir_->file("parts.mp4"), 3);
  EXPECT_EQ(whole.parts, 1);
  EXPECT_EQ(parts.parts, 3);
  EXPECT_EQ(whole.damage, "");
  EXPECT_EQ(parts.damage, "");
  EXPECT_EQ(whole.start_ms, 50u);
  EXPECT_EQ(parts.start_ms, 50u);
  EXPECT_EQ(parts.duration_ms, whole.duration_ms);
  EXPECT_EQ(whole.duration_ms, kLengthMs - 50);
  EXPECT_NEAR(probed_seconds(dir_->file("whole.mp4")), (kLengthMs - 50) / 1000.0, 0.0005);
  EXPECT_NEAR(probed_seconds(dir_->file("parts.mp4")), (kLengthMs - 50) / 1000.0, 0.0005);
  // Each part starts with a keyframe of the screen at its first instant: at most one extra frame per part.
  EXPECT_GE(parts.frames, whole.frames);
  EXPECT_LE(parts.frames, whole.frames + 2);
  // The parts are (65000 - 50) / 3 = 21650 ms long: their edges at 21.65 s and 43.3 s of the video.
  for (const double t : {0.0, 5.0, 21.6, 21.65, 21.7, 30.0, 43.25, 43.3, 43.4, 60.0, 64.9}) {
    SCOPED_TRACE(t);
    EXPECT_TRUE(same_pixels(picture_at(dir_->file("whole.mp4"), t), picture_at(dir_->file("parts.mp4"), t)));
  }
  // Against the decoder's own pictures: 50 ms after each of a few updates, both videos show that screen.
  int checked = 0;
  for (const auto& [ms, screen] : *screens_) {
    if (++checked % 9 != 0) continue;
    SCOPED_TRACE(ms);
    const double t = ms / 1000.0;  // video time 0 is the first paint at 50 ms: this is 50 ms after the update
    EXPECT_TRUE(same_pixels(picture_at(dir_->file("whole.mp4"), t), screen));
    EXPECT_TRUE(same_pixels(picture_at(dir_->file("parts.mp4"), t), screen));
  }
  EXPECT_GT(checked, 80);
  for (int k = 1; k <= 3; ++k)
    EXPECT_FALSE(std::filesystem::exists(dir_->file("parts.mp4.part" + std::to_string(k) + ".mp4")));
}

// With a checkpoint every 5 s (docs/fbs.md §7), the parts and a conversion --from a later instant start from
// checkpoints instead of decoding from the start: the videos are the same as without them.
TEST_F(LongRecording, ConversionsFromCheckpointsAreTheSameAsFromTheStart) {
  const std::string copy = dir_->file("checkpointed.fbs");
  std::filesystem::copy_file(path(), copy);
  std::filesystem::copy_file(fbs::index_path_for(path()), fbs::index_path_for(copy));  // its length, for parts
  fbs::ReplayOptions build;
  build.checkpoints = fbs::checkpoints_path_for(copy);
  build.build_checkpoints = true;
  build.checkpoint_every_ms = 5000;
  build.checkpoint_every_decode_ms = 0;
  const auto built = fbs::Replay(fbs::Reader::open(copy), build).run([](const fbs::Frame&) { return true; });
  ASSERT_GE(built.checkpoints_added, 10u);
  const auto plain = convert(copy, dir_->file("plain.mp4"), 3, false);
  const auto resumed = convert(copy, dir_->file("resumed.mp4"), 3, true);
  EXPECT_EQ(resumed.parts, 3);
  EXPECT_EQ(resumed.duration_ms, plain.duration_ms);
  EXPECT_EQ(resumed.frames, plain.frames);
  const auto plain_from = convert(copy, dir_->file("plain-from.mp4"), 1, false, 37000);
  const auto resumed_from = convert(copy, dir_->file("resumed-from.mp4"), 1, true, 37000);
  EXPECT_EQ(resumed_from.start_ms, 37000u);
  EXPECT_EQ(resumed_from.duration_ms, plain_from.duration_ms);
  for (const double t : {0.0, 21.65, 30.0, 43.3, 50.0, 64.9}) {
    SCOPED_TRACE(t);
    EXPECT_TRUE(same_pixels(picture_at(dir_->file("plain.mp4"), t), picture_at(dir_->file("resumed.mp4"), t)));
    if (t < 27) {
      EXPECT_TRUE(
          same_pixels(picture_at(dir_->file("plain-from.mp4"), t), picture_at(dir_->file("resumed-from.mp4"), t)));
    }
  }
  EXPECT_EQ(fbs::list_checkpoints(fbs::checkpoints_path_for(copy)).size(), built.checkpoints_added);
}

// Cut in the middle (the index still says 65 s): the parts after the cut have nothing to show, and the joined
// video ends where the one-piece conversion ends, with the same damage reported.
TEST_F(LongRecording, ADamagedRecordingEndsWhereTheOnePieceConversionEnds) {
  const auto bytes = file_bytes(path());
  const std::string cut = dir_->file("cut.fbs");
  std::ofstream(cut, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
  std::filesystem::copy_file(fbs::index_path_for(path()), fbs::index_path_for(cut));
  const auto whole = convert(cut, dir_->file("cut-whole.mp4"), 1);
  const auto parts = convert(cut, dir_->file("cut-parts.mp4"), 3);
  EXPECT_NE(whole.damage, "");
  EXPECT_EQ(parts.parts, 3);
  EXPECT_EQ(parts.damage, whole.damage);
  EXPECT_EQ(parts.duration_ms, whole.duration_ms);
  const double last = static_cast<double>(whole.duration_ms - 1) / 1000;
  EXPECT_TRUE(
      same_pixels(picture_at(dir_->file("cut-whole.mp4"), last), picture_at(dir_->file("cut-parts.mp4"), last)));
}

}  // namespace
}  // namespace vncgate::record
