// SPDX-License-Identifier: Apache-2.0
#include "record/encoder_settings.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "record/frame_slot.hpp"
#include "record/sidecar.hpp"

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

// The sidecar names the rate control the encoder used: CRF, a constant quantizer (then no CRF), or lossless.
TEST(EncoderSettings, SidecarNamesTheRateControlUsed) {
  const auto codec = [](EncoderSettings enc) {
    SegmentRecord r;
    r.encoder = std::move(enc);
    return nlohmann::json::parse(to_json(r))["codec"];
  };
  auto crf = codec({});
  EXPECT_EQ(crf["crf"], 16);
  EXPECT_TRUE(crf["qp"].is_null());
  EncoderSettings qp;
  qp.qp = 23;
  EXPECT_TRUE(codec(qp)["crf"].is_null());
  EXPECT_EQ(codec(qp)["qp"], 23);
  EncoderSettings lossless;
  lossless.lossless = true;
  EXPECT_TRUE(codec(lossless)["crf"].is_null());
  EXPECT_EQ(codec(lossless)["qp"], 0);
}

TEST(FrameSlot, WakeEndsAWaitWithoutAFrame) {
  FrameSlot slot;
  slot.wake();
  EXPECT_FALSE(slot.take(std::chrono::steady_clock::now() + std::chrono::seconds(10)));
}

}  // namespace
}  // namespace vncgate::record
