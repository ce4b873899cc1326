// SPDX-License-Identifier: Apache-2.0
// The picture of an MP4 recording at a time (search hits' thumbnails): a recording written by Mp4Writer with a
// different screen every 0.4 s and a keyframe every second; the picture at each time must be the screen
// written for that time (and not its neighbours), across keyframes, read by ranges; foreign files and read
// faults give errors, a file cut short is a shorter recording.
#include "record/mp4_frame.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>

#include "record/mp4_writer.hpp"
#include "support/media.hpp"
#include "support/process.hpp"
#include "util/error.hpp"

namespace vncgate::record::frame_at_test {
namespace {

constexpr int kW = 320, kH = 192;
constexpr int kScreens = 12;
constexpr std::int64_t kStepMs = 400;

// Bars whose position depends on `seed`: every screen differs from every other one everywhere.
framebuffer::PixelBuffer screen(int seed) {
  framebuffer::PixelBuffer fb(kW, kH);
  for (int y = 0; y < kH; ++y)
    for (int x = 0; x < kW; ++x)
      fb.pixels()[y * kW + x] = ((x + seed * 23) / 16 + (y / 16)) % 3 == 0 ? 0xe0e0e0u : 0x102060u + seed * 0x0a0000u;
  return fb;
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// Reads from memory, counting the reads: FFmpeg must fetch parts, not the whole file byte by byte.
RangeSource memory_source(const std::string& bytes, int* reads = nullptr) {
  return RangeSource{bytes.size(), [&bytes, reads](std::uint64_t offset, std::span<std::uint8_t> into) {
                       if (reads) ++*reads;
                       const auto n = std::min<std::uint64_t>(into.size(), bytes.size() - offset);
                       std::memcpy(into.data(), bytes.data() + offset, n);
                       return static_cast<std::size_t>(n);
                     }};
}

class Mp4Frame : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir;
    EncoderSettings settings;
    settings.keyframe_interval_s = 1;
    settings.hibernate_after_s = 0;
    const auto path = dir_->file("frames.mp4");
    {
      Mp4Writer w(path, settings, kW, kH, 0);
      for (int i = 0; i < kScreens; ++i) w.write(screen(i), i * kStepMs);
      w.finish(kScreens * kStepMs);
    }
    bytes_ = new std::string(file_bytes(path));
  }
  static void TearDownTestSuite() {
    delete bytes_;
    delete dir_;
  }
  static inline test::TempDir* dir_ = nullptr;
  static inline std::string* bytes_ = nullptr;
};

TEST_F(Mp4Frame, EachTimeShowsTheScreenWrittenForIt) {
  for (int i = 0; i < kScreens; ++i) {
    for (const double into : {0.0, 0.2, 0.39}) {
      const double t = (i * kStepMs) / 1000.0 + into;
      const auto picture = mp4_frame_at(memory_source(*bytes_), t);
      ASSERT_EQ(picture.width(), kW);
      ASSERT_EQ(picture.height(), kH);
      const double own = test::psnr(picture, screen(i));
      EXPECT_GT(own, 38.0) << "t=" << t;
      if (i + 1 < kScreens) {
        EXPECT_LT(test::psnr(picture, screen(i + 1)), own - 10) << "t=" << t << " shows the next";
      }
      if (i > 0) {
        EXPECT_LT(test::psnr(picture, screen(i - 1)), own - 10) << "t=" << t << " shows the previous";
      }
    }
  }
}

TEST_F(Mp4Frame, PastTheEndShowsTheLastPicture_AndReadsByParts) {
  int reads = 0;
  const auto picture = mp4_frame_at(memory_source(*bytes_, &reads), 3600);
  EXPECT_GT(test::psnr(picture, screen(kScreens - 1)), 38.0);
  EXPECT_LT(reads, 64) << "FFmpeg's reads go through a buffer";
}

TEST_F(Mp4Frame, ShrinkKeepsTheAspect) {
  const auto small = framebuffer::shrink_to_width(mp4_frame_at(memory_source(*bytes_), 0), 100);
  EXPECT_LE(small.width(), 100);
  EXPECT_EQ(small.width() * kH / kW, small.height());
}

TEST_F(Mp4Frame, DamagedOrForeignFiles_AreCodecErrors) {
  const std::string not_mp4(4096, 'x');
  EXPECT_THROW(mp4_frame_at(memory_source(not_mp4), 0), CodecError);
  const std::string empty;
  EXPECT_THROW(mp4_frame_at(memory_source(empty), 0), CodecError);
  EXPECT_THROW(mp4_frame_at(memory_source(*bytes_), -1), CodecError);
  EXPECT_THROW(mp4_frame_at(memory_source(*bytes_), std::nan("")), CodecError);
}

// The recorder writes fragmented MP4 (a crash leaves a playable file): a file cut anywhere is a shorter
// recording. Times inside it show their screens; a time past the cut shows a screen written before the cut, or
// is an error (the cut went through the last fragment) — never a screen it does not have.
TEST_F(Mp4Frame, ACutFileIsAShorterRecording) {
  for (const std::size_t keep : {bytes_->size() / 2, bytes_->size() / 2 + 77, bytes_->size() - 5}) {
    const std::string cut = bytes_->substr(0, keep);
    EXPECT_GT(test::psnr(mp4_frame_at(memory_source(cut), 0.1), screen(0)), 38.0) << keep;
    try {
      const auto last = mp4_frame_at(memory_source(cut), 3600);
      double best = 0;
      for (int i = 0; i < kScreens; ++i) best = std::max(best, test::psnr(last, screen(i)));
      EXPECT_GT(best, 38.0) << keep << ": not one of the written screens";
    } catch (const CodecError&) {
    }
  }
}

TEST_F(Mp4Frame, ReadFaultsPassThrough) {
  RangeSource failing{bytes_->size(), [](std::uint64_t, std::span<std::uint8_t>) -> std::size_t {
                        throw StorageError("storage went away");
                      }};
  EXPECT_THROW(mp4_frame_at(failing, 1), StorageError);
}

TEST_F(Mp4Frame, APictureLargerThanTheLimit_IsRefused) {
  EXPECT_THROW(mp4_frame_at(memory_source(*bytes_), 0, FrameLimits{.max_pixels = 1000}), CodecError);
}

}  // namespace
}  // namespace vncgate::record::frame_at_test
