// SPDX-License-Identifier: Apache-2.0
#include "rfb/pixel_format.hpp"

#include <gtest/gtest.h>

#include "rfb/encoding.hpp"

namespace vncgate::rfb {
namespace {

TEST(PixelFormat_Serialize, RoundTrips) {
  for (auto pf : {PixelFormat::canonical(), PixelFormat::rgb565(), PixelFormat::bgr233(), PixelFormat::colour_map8()}) {
    const auto bytes = pf.serialize();
    EXPECT_EQ(PixelFormat::parse(bytes.data()), pf) << pf.describe();
  }
}

TEST(PixelFormat_Validate, RejectsHostileFormats) {
  PixelFormat pf;
  pf.bits_per_pixel = 24;
  EXPECT_FALSE(pf.validate().empty());
  pf = PixelFormat::canonical();
  pf.red_max = 254;
  EXPECT_FALSE(pf.validate().empty());
  pf = PixelFormat::canonical();
  pf.red_shift = 30;
  EXPECT_FALSE(pf.validate().empty());
  pf = PixelFormat::canonical();
  pf.true_colour = false;
  EXPECT_FALSE(pf.validate().empty());  // colour map only at 8 bpp
  EXPECT_TRUE(PixelFormat::colour_map8().validate().empty());
}

TEST(PixelFormat_Cpixel, ThreeBytesForDepth24InLowOrHighBytes) {
  EXPECT_EQ(PixelFormat::canonical().cpixel_bytes(), 3);
  PixelFormat high = PixelFormat::canonical();
  high.red_shift = 24;
  high.green_shift = 16;
  high.blue_shift = 8;
  EXPECT_EQ(high.cpixel_bytes(), 3);
  EXPECT_EQ(PixelFormat::rgb565().cpixel_bytes(), 2);
  PixelFormat deep = PixelFormat::canonical();
  deep.depth = 32;
  EXPECT_EQ(deep.cpixel_bytes(), 4);
}

TEST(PixelConverter_Cpixel, HighBytesBigEndian) {
  PixelFormat pf = PixelFormat::canonical();
  pf.big_endian = true;
  pf.red_shift = 24;
  pf.green_shift = 16;
  pf.blue_shift = 8;
  PixelConverter conv(pf);
  const std::uint8_t bytes[3] = {0x11, 0x22, 0x33};
  EXPECT_EQ(conv.cpixel(bytes), 0x112233u);
}

TEST(PixelConverter_Cpixel, CanonicalLittleEndianIsBgr) {
  PixelConverter conv;
  const std::uint8_t bytes[6] = {0x33, 0x22, 0x11, 0x66, 0x55, 0x44};
  Pixel out[2];
  conv.convert_cpixels(bytes, out, 2);
  EXPECT_EQ(out[0], 0x112233u);
  EXPECT_EQ(out[1], 0x445566u);
}

TEST(PixelConverter_Convert, Bgr233ExpandsFullRange) {
  PixelConverter conv(PixelFormat::bgr233());
  const std::uint8_t white = 0xff, blue_only = 0xc0;
  EXPECT_EQ(conv.pixel(&white), 0xffffffu);
  EXPECT_EQ(conv.pixel(&blue_only), 0x0000ffu);
}

TEST(EncodingList_Parse, NamesAndErrors) {
  std::string error;
  auto list = parse_encoding_list("Tight,zrle,raw", &error);
  ASSERT_TRUE(list);
  EXPECT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0], Encoding::tight);
  EXPECT_FALSE(parse_encoding_list("tight,bogus", &error));
  EXPECT_NE(error.find("bogus"), std::string::npos);
  EXPECT_EQ(encoding_name(-250), "compress-6");
  auto levels = parse_encoding_list("tight,quality-7,compress-2", &error);
  ASSERT_TRUE(levels);
  EXPECT_EQ((*levels)[1], quality_level(7));
  EXPECT_EQ((*levels)[2], compress_level(2));
  EXPECT_FALSE(parse_encoding_list("quality-10", &error));
  EXPECT_EQ(encoding_name(16), "zrle");
}

}  // namespace
}  // namespace vncgate::rfb
