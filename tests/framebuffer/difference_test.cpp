// SPDX-License-Identifier: Apache-2.0
#include "framebuffer/difference.hpp"

#include <gtest/gtest.h>

namespace vncgate::framebuffer {
namespace {

TEST(Difference, EqualPicturesHaveNone) {
  PixelBuffer a(100, 50);
  a.fill({10, 10, 5, 5}, 7);
  EXPECT_TRUE(difference(a, a).empty());
}

TEST(Difference, AChangeIsItsBandCutToTheChangedColumns) {
  PixelBuffer a(100, 50), b(100, 50);
  b.fill({30, 20, 5, 1}, 9);
  b.fill({60, 21, 1, 1}, 9);
  const auto d = difference(a, b, 16);
  ASSERT_EQ(d.rects().size(), 1u);
  EXPECT_EQ(d.rects()[0], (Rect{30, 16, 31, 16}));
  // The last band is short.
  b.fill({0, 49, 1, 1}, 3);
  EXPECT_EQ(difference(a, b, 16).bounds(), (Rect{0, 16, 61, 34}));
}

TEST(Difference, ASizeChangeIsTheWholePicture) {
  PixelBuffer a, b(20, 10);
  EXPECT_EQ(difference(a, b).bounds(), b.bounds());
  EXPECT_EQ(difference(PixelBuffer(20, 11), b).bounds(), b.bounds());
}

}  // namespace
}  // namespace vncgate::framebuffer
