// SPDX-License-Identifier: Apache-2.0
// Encoder hibernation: a still screen's encoder is closed and repeats become ready-made skip frames
// (SkipFrames); the file must decode (ffmpeg, an independent decoder) to the same pictures as if x264 had
// coded every repeat, and the next change must start with a keyframe.
#include "record/mp4_writer.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "record/skip_frames.hpp"
#include "support/media.hpp"
#include "support/process.hpp"

namespace vncgate::record {
namespace {

constexpr int kW = 320, kH = 240;

// Glyph-like cells in two colours on a background, varied by `seed`.
framebuffer::PixelBuffer text_screen(int seed) {
  framebuffer::PixelBuffer fb(kW, kH);
  for (int y = 0; y < kH; ++y)
    for (int x = 0; x < kW; ++x) {
      const bool ink = (x / 9 * 7 + y / 16 * 13 + seed) % 5 < 2 && x % 9 < 6 && y % 16 < 12;
      fb.pixels()[y * kW + x] = ink ? (y / 16 % 2 ? 0xffd0d0d0u : 0xff20c020u) : 0xff000030u;
    }
  return fb;
}

struct Case {
  const char* name;
  Chroma chroma;
  bool lossless;
  double min_db;  // 4:2:0 smears the coloured glyphs (docs/performance.md)
  // libx264rgb codes flat blocks of its lossless stream as intra, so its skip frame fails the decoding check
  // and the encoder stays open.
  bool sleeps = true;
};

class Hibernation : public testing::TestWithParam<Case> {};

TEST_P(Hibernation, StillScreenSleepsAndDecodesTheSame) {
  test::TempDir dir;
  EncoderSettings settings;
  settings.chroma = GetParam().chroma;
  settings.lossless = GetParam().lossless;
  settings.hibernate_after_s = 2;
  const auto a = text_screen(0), b = text_screen(3);
  const std::string path = dir.file("h.mp4");
  std::vector<int> asleep;  // frame indices written while the encoder slept
  std::int64_t frames = 0;
  int woke_at = -1;
  {
    Mp4Writer w(path, settings, kW, kH, 0);
    w.write(a, 0);
    std::int64_t t = 0;
    for (int i = 0; i < 12; ++i) {
      w.repeat(t += 1000);
      if (w.hibernating()) asleep.push_back(static_cast<int>(w.frames()) - 1);
    }
    if (GetParam().sleeps) {
      ASSERT_GE(asleep.size(), 6u) << "the encoder never went to sleep on a still screen";
      EXPECT_GE(asleep.front(), 2) << "asleep before hibernate_after_s";
    } else {
      EXPECT_TRUE(asleep.empty());
    }
    w.write(b, t += 500);
    EXPECT_FALSE(w.hibernating());
    woke_at = static_cast<int>(w.frames()) - 1;
    for (int i = 0; i < 8; ++i) {
      w.repeat(t += 1000);
      if (w.hibernating()) asleep.push_back(static_cast<int>(w.frames()) - 1);
    }
    EXPECT_EQ(w.hibernating(), GetParam().sleeps) << "did not sleep again after the change";
    frames = w.finish(t + 1000).frames;
  }
  std::string warnings;
  const auto packets = test::probe_packets(path, &warnings);
  EXPECT_EQ(warnings, "");
  ASSERT_EQ(static_cast<std::int64_t>(packets.size()), frames);
  EXPECT_TRUE(packets[0].key);
  if (GetParam().sleeps) {
    EXPECT_TRUE(packets[woke_at].key) << "the change after sleeping must be a keyframe";
  }
  for (const int i : asleep) EXPECT_FALSE(packets[i].key);

  // Skip frames continue the numbering (a gap is not an error to ffmpeg, which invents the missing frames).
  const auto nums = test::h264_frame_nums(path);
  ASSERT_EQ(static_cast<std::int64_t>(nums.size()), frames);
  for (std::size_t i = 1; i < nums.size(); ++i)
    EXPECT_TRUE(nums[i] == nums[i - 1] + 1 || nums[i] == 0) << "frame_num " << nums[i - 1] << " then " << nums[i];

  std::string errors;
  const auto decoded = test::decode_frames(path, kW, kH, &errors);
  EXPECT_EQ(errors, "");
  ASSERT_EQ(static_cast<std::int64_t>(decoded.size()), frames);
  for (int i = 0; i < static_cast<int>(decoded.size()); ++i) {
    const auto& source = i < woke_at ? a : b;
    EXPECT_GT(test::psnr(decoded[i], source), GetParam().min_db) << "frame " << i;
    if (std::find(asleep.begin(), asleep.end(), i) != asleep.end()) {
      EXPECT_TRUE(std::ranges::equal(decoded[i].pixels(), decoded[i - 1].pixels()))
          << "skip frame " << i << " changed the picture";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Mp4Writer, Hibernation,
                         testing::Values(Case{"yuv444", Chroma::yuv444, false, 40},
                                         Case{"yuv420", Chroma::yuv420, false, 25},
                                         Case{"lossless", Chroma::yuv444, true, 90, false}),
                         [](const auto& info) { return std::string(info.param.name); });

// Awake (hibernation off), repeats after x264's first two of a change are skip frames between x264's own
// frames; x264's later frames are renumbered past them. ffmpeg must decode every frame without a complaint to
// the source picture, each skip frame exactly to the frame before it.
class SkipWhileAwake : public testing::TestWithParam<Case> {};

TEST_P(SkipWhileAwake, RepeatsAfterTheFirstTwoAreSkipFramesAndLaterFramesStillDecode) {
  test::TempDir dir;
  EncoderSettings settings;
  settings.chroma = GetParam().chroma;
  settings.lossless = GetParam().lossless;
  settings.hibernate_after_s = 0;
  const framebuffer::PixelBuffer screens[] = {text_screen(0), text_screen(3), text_screen(7)};
  const std::string path = dir.file("s.mp4");
  std::vector<int> source;  // which screen each frame shows
  std::int64_t skipped = 0;
  {
    Mp4Writer w(path, settings, kW, kH, 0);
    std::int64_t t = 0;
    const int repeats[] = {6, 3, 1};
    for (int k = 0; k < 3; ++k) {
      w.write(screens[k], t += 300);
      source.push_back(k);
      for (int i = 0; i < repeats[k]; ++i) {
        w.repeat(t += 1000);
        source.push_back(k);
      }
    }
    skipped = w.skip_frames();
    EXPECT_EQ(w.finish(t + 1000).frames, static_cast<std::int64_t>(source.size()));
  }
  EXPECT_EQ(skipped, GetParam().sleeps ? 4 + 1 : 0);  // repeats beyond the first two of each change

  std::string warnings;
  const auto packets = test::probe_packets(path, &warnings);
  EXPECT_EQ(warnings, "");
  ASSERT_EQ(packets.size(), source.size());
  for (std::size_t i = 1; i < packets.size(); ++i) EXPECT_FALSE(packets[i].key) << "frame " << i;
  const auto nums = test::h264_frame_nums(path);
  ASSERT_EQ(nums.size(), source.size());
  for (std::size_t i = 1; i < nums.size(); ++i)
    EXPECT_TRUE(nums[i] == nums[i - 1] + 1 || nums[i] == 0) << "frame_num " << nums[i - 1] << " then " << nums[i];

  std::string errors;
  const auto decoded = test::decode_frames(path, kW, kH, &errors);
  EXPECT_EQ(errors, "");
  ASSERT_EQ(decoded.size(), source.size());
  for (std::size_t i = 0; i < decoded.size(); ++i) {
    EXPECT_GT(test::psnr(decoded[i], screens[source[i]]), GetParam().min_db) << "frame " << i;
    if (i > 0 && source[i] == source[i - 1] && i >= 3 && source[i - 3] == source[i]) {
      EXPECT_TRUE(std::ranges::equal(decoded[i].pixels(), decoded[i - 1].pixels())) << "skip frame " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Mp4Writer, SkipWhileAwake,
                         testing::Values(Case{"yuv444", Chroma::yuv444, false, 40},
                                         Case{"yuv420", Chroma::yuv420, false, 25},
                                         Case{"lossless", Chroma::yuv444, true, 90, false}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Mp4Writer, NeverSleepsWhenHibernationIsOff) {
  test::TempDir dir;
  EncoderSettings settings;
  settings.hibernate_after_s = 0;
  Mp4Writer w(dir.file("h.mp4"), settings, kW, kH, 0);
  w.write(text_screen(0), 0);
  for (int t = 1000; t <= 8000; t += 1000) {
    w.repeat(t);
    EXPECT_FALSE(w.hibernating());
  }
}

TEST(SkipFrames, RefusesWhatItCannotRenumber) {
  const std::vector<std::uint8_t> garbage{0, 0, 0, 1, 0x67, 0xff, 0xff};
  EXPECT_FALSE(SkipFrames::make(garbage, garbage));
  EXPECT_FALSE(SkipFrames::make({}, {}));
}

}  // namespace
}  // namespace vncgate::record
