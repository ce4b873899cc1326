// SPDX-License-Identifier: Apache-2.0
// PNGs as we write them (palette of 1-8 bits or RGB, chosen per picture) read back by libpng's own reader
// (tests/support/image: png_image_*), pixel for pixel.
#include "framebuffer/png.hpp"

#include <gtest/gtest.h>

#include <random>

#include "support/image.hpp"
#include "support/process.hpp"

namespace vncgate::framebuffer {
namespace {

// Text-like: `colours` colours in runs of 5 pixels on a background, at odd sizes (rows that end mid-byte).
PixelBuffer runs_of(int colours, int w = 37, int h = 11) {
  PixelBuffer fb(w, h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      fb.row(y)[x] = static_cast<Pixel>(((x / 5 + y * 7) % colours) * 40503u & 0xffffff);  // distinct: odd factor
  return fb;
}

PixelBuffer noise(int w, int h) {
  PixelBuffer fb(w, h);
  std::mt19937 rng(5);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) fb.row(y)[x] = rng() & 0xffffff;
  return fb;
}

// The PNG's colour type (IHDR byte 25: 3 palette, 2 RGB) and bit depth (byte 24).
std::pair<int, int> type_and_depth(const std::string& png) {
  return {static_cast<unsigned char>(png.at(25)), static_cast<unsigned char>(png.at(24))};
}

void expect_round_trip(const PixelBuffer& fb, int type, int depth) {
  vncgate::test::TempDir dir("vncgate-png");
  const auto bytes = encode_png(fb);
  EXPECT_EQ(type_and_depth(bytes), std::make_pair(type, depth));
  write_png(fb, dir.file("p.png"));
  const auto back = vncgate::test::load_png(dir.file("p.png"));
  ASSERT_EQ(back.width(), fb.width());
  ASSERT_EQ(back.height(), fb.height());
  for (int y = 0; y < fb.height(); ++y)
    for (int x = 0; x < fb.width(); ++x) ASSERT_EQ(back.row(y)[x], fb.row(y)[x]) << x << "," << y;
}

TEST(Png, FewColoursGoAsAPaletteOfAsFewBitsAsTheyNeed) {
  expect_round_trip(runs_of(1), 3, 1);
  expect_round_trip(runs_of(2), 3, 1);
  expect_round_trip(runs_of(3), 3, 2);
  expect_round_trip(runs_of(13), 3, 4);
  expect_round_trip(runs_of(17), 3, 8);
  expect_round_trip(runs_of(256, 1600, 9), 3, 8);
  expect_round_trip(runs_of(2, 1, 1), 3, 1);
}

TEST(Png, ManyColoursGoAsRgbWhetherInRunsOrNot) {
  expect_round_trip(runs_of(300, 1600, 9), 2, 8);
  expect_round_trip(noise(64, 48), 2, 8);
}

TEST(Png, AConsoleScreenIsSmallerThanItsPixels) {
  // 720x400 with 16 colours: 4 bits a pixel before deflate, and runs compress far below that.
  const auto png = encode_png(runs_of(16, 720, 400));
  EXPECT_LT(png.size(), 720u * 400 / 2 / 4);
}

}  // namespace
}  // namespace vncgate::framebuffer
