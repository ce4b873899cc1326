// SPDX-License-Identifier: Apache-2.0
#include "framebuffer/pixel_buffer.hpp"

#include <gtest/gtest.h>

#include "framebuffer/cursor.hpp"

namespace vncgate::framebuffer {
namespace {

TEST(PixelBuffer_Copy, OverlappingMoveRightAndUp) {
  PixelBuffer fb(4, 3);
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 4; ++x) fb.row(y)[x] = static_cast<Pixel>(y * 10 + x);
  fb.copy({0, 1, 3, 2}, 1, 0);  // moves up-right, overlapping
  EXPECT_EQ(fb.at(1, 0), 10u);
  EXPECT_EQ(fb.at(3, 0), 12u);
  EXPECT_EQ(fb.at(1, 1), 20u);
  EXPECT_EQ(fb.at(3, 1), 22u);
}

TEST(Rect_Inside, EdgesAndOverflowingSizes) {
  EXPECT_TRUE((Rect{0, 0, 4, 4}.inside(4, 4)));
  EXPECT_FALSE((Rect{1, 0, 4, 4}.inside(4, 4)));
  EXPECT_FALSE((Rect{0, 0, 65535, 65535}.inside(4, 4)));
  EXPECT_EQ((Rect{0, 0, 2, 2}.unite({3, 3, 1, 1})), (Rect{0, 0, 4, 4}));
}

TEST(Cursor_Composite, ClipsAtEdgesAndHonoursMask) {
  PixelBuffer fb(3, 3);
  Cursor c;
  c.width = 2;
  c.height = 2;
  c.hotspot_x = 1;
  c.hotspot_y = 1;
  c.pixels = {1, 2, 3, 4};
  c.mask = {1, 0, 1, 1};
  composite(fb, c, 0, 0);  // top-left quarter falls outside
  EXPECT_EQ(fb.at(0, 0), 4u);
  EXPECT_EQ(fb.at(1, 0), 0u);
  composite(fb, c, 2, 2);
  EXPECT_EQ(fb.at(1, 1), 1u);
  EXPECT_EQ(fb.at(2, 1), 0u);
  EXPECT_EQ(fb.at(2, 2), 4u);
}

}  // namespace
}  // namespace vncgate::framebuffer
