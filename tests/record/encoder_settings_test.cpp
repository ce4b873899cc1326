// SPDX-License-Identifier: Apache-2.0
#include "record/encoder_settings.hpp"

#include <gtest/gtest.h>

#include "record/frame_slot.hpp"

namespace vncgate::record {
namespace {

TEST(EncoderSettings, ParsesEvenSizesOnly) {
  EXPECT_EQ(parse_size("1280x720"), std::make_pair(1280, 720));
  EXPECT_FALSE(parse_size("1281x720"));
  EXPECT_FALSE(parse_size("1280x"));
  EXPECT_FALSE(parse_size("8x8"));
  EXPECT_FALSE(parse_size("99999x720"));
  EXPECT_FALSE(parse_size("1280x720junk"));
  EXPECT_FALSE(parse_size("-1280x720"));
}

TEST(EncoderSettings, OutputSizeIsExplicitOrScaledToEvenNumbers) {
  EncoderSettings s;
  EXPECT_EQ(output_size(s, 720, 400), std::make_pair(720, 400));
  EXPECT_EQ(output_size(s, 721, 401), std::make_pair(722, 402));
  s.scale = 0.5;
  EXPECT_EQ(output_size(s, 1024, 768), std::make_pair(512, 384));
  s.width = 640, s.height = 360;
  EXPECT_EQ(output_size(s, 1024, 768), std::make_pair(640, 360));
}

TEST(EncoderSettings, ChromaIsFullByDefaultAndParsesItsTwoNames) {
  EXPECT_EQ(EncoderSettings{}.chroma, Chroma::yuv444);  // coloured console text stays sharp (docs/recording.md)
  EXPECT_EQ(parse_chroma("444"), Chroma::yuv444);
  EXPECT_EQ(parse_chroma("yuv420p"), Chroma::yuv420);
  EXPECT_EQ(parse_chroma("420"), Chroma::yuv420);
  EXPECT_FALSE(parse_chroma("422"));
  EXPECT_FALSE(parse_chroma(""));
  EXPECT_STREQ(chroma_name(Chroma::yuv420), "420");
  EXPECT_STREQ(chroma_name(Chroma::yuv444), "444");
}

TEST(FrameSlot, NewestFrameWinsAndOverwritesAreCounted) {
  FrameSlot slot;
  framebuffer::PixelBuffer a(2, 2), b(2, 2);
  a.fill(a.bounds(), 1);
  b.fill(b.bounds(), 2);
  slot.publish(a, 10);
  slot.publish(b, 20);
  auto frame = slot.take(std::chrono::steady_clock::now());
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->t_ms, 20);
  EXPECT_EQ(frame->pixels.at(1, 1), 2u);
  EXPECT_EQ(slot.dropped(), 1u);
  EXPECT_FALSE(slot.take(std::chrono::steady_clock::now()));
}

TEST(FrameSlot, ReusedBuffersOfAnotherSizeAreResized) {
  FrameSlot slot;
  framebuffer::PixelBuffer small(2, 2), large(8, 4);
  large.fill(large.bounds(), 5);
  slot.publish(small, 1);
  auto first = slot.take(std::chrono::steady_clock::now(), framebuffer::PixelBuffer(1, 1));
  slot.publish(large, 2);
  auto second = slot.take(std::chrono::steady_clock::now(), std::move(first->pixels));
  ASSERT_TRUE(second);
  EXPECT_EQ(second->pixels.width(), 8);
  EXPECT_EQ(second->pixels.at(7, 3), 5u);
}

TEST(FrameSlot, WakeEndsAWaitWithoutAFrame) {
  FrameSlot slot;
  slot.wake();
  EXPECT_FALSE(slot.take(std::chrono::steady_clock::now() + std::chrono::seconds(10)));
}

}  // namespace
}  // namespace vncgate::record
