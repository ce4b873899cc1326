// SPDX-License-Identifier: Apache-2.0
#include "framebuffer/pixel_buffer.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "framebuffer/cursor.hpp"
#include "framebuffer/test_frames.hpp"
#include "support/heap.hpp"

namespace vncgate::framebuffer {
namespace {

std::size_t resident_bytes() {
  std::size_t pages = 0, resident = 0;
  std::ifstream("/proc/self/statm") >> pages >> resident;
  return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

// A console that claims a huge screen costs what it draws: its black picture is not written at resize.
TEST(PixelBuffer_Resize, AHugeBlackScreenTakesNoMemoryUntilDrawn) {
  if (!vncgate::test::heap_statistics_work()) GTEST_SKIP() << "a sanitizer's allocator commits what calloc hands out";
  const auto before = resident_bytes();
  PixelBuffer big(8192, 4096);  // 128 MiB of pixels
  big.fill({0, 0, 8192, 16}, 0xffffff);
  EXPECT_EQ(big.at(100, 2000), 0u);
  EXPECT_EQ(big.at(8191, 15), 0xffffffu);
  EXPECT_LT(resident_bytes() - before, std::size_t{16} << 20);
  big.resize(64, 64);
  EXPECT_EQ(big.at(63, 63), 0u);
  big.fill(big.bounds(), 7);
  big.resize(64, 64);
  EXPECT_EQ(big.at(5, 5), 0u) << "a resize clears to black";
}

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

bool same_pixels(const PixelBuffer& a, const PixelBuffer& b) {
  return a.width() == b.width() && a.height() == b.height() &&
         std::equal(a.pixels().begin(), a.pixels().end(), b.pixels().begin(), b.pixels().end());
}

TEST(PixelBuffer_Compact, TextConsoleRoundTripsAndShrinks) {
  const PixelBuffer original = test::text_console(640, 480);
  PixelBuffer fb = original;
  fb.compact();
  ASSERT_TRUE(fb.compacted());
  EXPECT_EQ(fb.width(), 640);
  EXPECT_EQ(fb.height(), 480);
  EXPECT_EQ(fb.bounds(), (Rect{0, 0, 640, 480}));
  // The pixel storage is freed, not just cleared; what remains is the compressed copy, a few tens of KiB.
  EXPECT_LT(fb.heap_bytes(), 48u * 1024);
  EXPECT_GT(fb.heap_bytes(), 0u);
  fb.expand();
  EXPECT_FALSE(fb.compacted());
  EXPECT_TRUE(same_pixels(fb, original));
  EXPECT_EQ(fb.heap_bytes(), 640u * 480 * sizeof(Pixel));
}

TEST(PixelBuffer_Compact, NoiseRoundTripsExactly) {
  const PixelBuffer original = test::noise(333, 77);  // odd sizes: no row or chunk alignment to lean on
  PixelBuffer fb = original;
  fb.compact();
  fb.expand();
  EXPECT_TRUE(same_pixels(fb, original));
}

TEST(PixelBuffer_Compact, RepeatedCompactExpandAndIdempotentCalls) {
  const PixelBuffer original = test::text_console(200, 120, 3);
  PixelBuffer fb = original;
  fb.expand();  // not compacted: no-op
  EXPECT_TRUE(same_pixels(fb, original));
  for (int i = 0; i < 3; ++i) {
    fb.compact();
    const std::size_t packed = fb.heap_bytes();
    fb.compact();  // already compacted: no-op
    EXPECT_EQ(fb.heap_bytes(), packed);
    fb.expand();
    fb.row(5)[7] = static_cast<Pixel>(i);  // writes between rounds survive the next round
  }
  PixelBuffer expected = original;
  expected.row(5)[7] = 2;
  EXPECT_TRUE(same_pixels(fb, expected));
}

TEST(PixelBuffer_Compact, CopyAndMoveKeepTheState) {
  const PixelBuffer original = test::text_console(64, 48);
  PixelBuffer a = original;
  a.compact();
  PixelBuffer copy = a;
  ASSERT_TRUE(copy.compacted());
  PixelBuffer moved = std::move(a);
  ASSERT_TRUE(moved.compacted());
  EXPECT_FALSE(a.compacted());  // NOLINT(bugprone-use-after-move): moved-from is documented as empty
  EXPECT_EQ(a.width(), 0);
  copy.expand();
  moved.expand();
  EXPECT_TRUE(same_pixels(copy, original));
  EXPECT_TRUE(same_pixels(moved, original));
}

TEST(PixelBuffer_Compact, ResizeWhileCompactedDropsTheCopy) {
  PixelBuffer fb = test::text_console(64, 48);
  fb.compact();
  fb.resize(32, 16);
  EXPECT_FALSE(fb.compacted());
  EXPECT_EQ(fb.heap_bytes(), 32u * 16 * sizeof(Pixel));
  EXPECT_TRUE(std::all_of(fb.pixels().begin(), fb.pixels().end(), [](Pixel p) { return p == 0; }));
  fb.expand();  // nothing left to restore
  EXPECT_EQ(fb.width(), 32);
}

TEST(PixelBuffer_Compact, EmptyBufferRoundTrips) {
  PixelBuffer fb;
  fb.compact();
  EXPECT_TRUE(fb.compacted());
  fb.expand();
  EXPECT_FALSE(fb.compacted());
  EXPECT_EQ(fb.width(), 0);
  EXPECT_TRUE(fb.pixels().empty());
}

}  // namespace
}  // namespace vncgate::framebuffer
