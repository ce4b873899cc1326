// SPDX-License-Identifier: Apache-2.0
#include "framebuffer/pixel_buffer.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <random>

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

// Scrolls (wide vertical copies, done by moving rows) mixed with narrow and diagonal copies and fills, as a
// terminal's updates come: the picture always equals a pixel-by-pixel reference, and pixels(), packed(), a
// copy and compact/expand see it the same way.
TEST(PixelBuffer_Copy, ScrollsByRowsMatchAPixelByPixelCopy) {
  constexpr int kW = 97, kH = 61;
  std::mt19937 rng(7);
  PixelBuffer fb(kW, kH);
  std::vector<Pixel> want(std::size_t(kW) * kH);
  for (int i = 0; i < kW * kH; ++i) want[std::size_t(i)] = fb.pixels()[std::size_t(i)] = rng() & 0xffffff;
  bool rows_moved = false;
  for (int step = 0; step < 400; ++step) {
    const int kind = static_cast<int>(rng() % 4);
    if (kind == 3) {
      const Rect r{int(rng() % kW), int(rng() % kH), 1, 1};
      const Pixel p = rng() & 0xffffff;
      fb.fill(r, p);
      want[std::size_t(r.y) * kW + r.x] = p;
      continue;
    }
    Rect src;
    int dst_x, dst_y;
    if (kind == 0 || kind == 1) {  // a scroll piece: nearly full width, a few rows up or down
      const int margin = static_cast<int>(rng() % 4);
      const int shift = 1 + static_cast<int>(rng() % 6);
      const int h = shift + 1 + static_cast<int>(rng() % (kH - 2 * shift - 1));
      src = {margin, static_cast<int>(rng() % (kH - h - shift + 1)), kW - margin - static_cast<int>(rng() % 3), h};
      dst_x = src.x;
      dst_y = src.y;
      (kind == 0 ? dst_y : src.y) += shift;
    } else {
      src = {int(rng() % 40), int(rng() % 30), 1 + int(rng() % 50), 1 + int(rng() % 30)};
      dst_x = int(rng() % (kW - src.w + 1));
      dst_y = int(rng() % (kH - src.h + 1));
      if (src.right() > kW || src.bottom() > kH) continue;
    }
    fb.copy(src, dst_x, dst_y);
    test::reference_copy(want, kW, src, dst_x, dst_y);
    rows_moved = rows_moved || !fb.rows_in_order(0, kH);
    ASSERT_EQ(test::picture_of(fb), want) << "step " << step;
    if (step % 50 == 49) {
      PixelBuffer copied = fb;
      EXPECT_TRUE(copied.rows_in_order(0, kH));
      EXPECT_EQ(test::picture_of(copied), want);
      PixelBuffer unpacked(kW, kH);
      ASSERT_TRUE(unpack_checked(fb.packed(), unpacked.pixels()));
      EXPECT_EQ(test::picture_of(unpacked), want);
    }
  }
  EXPECT_TRUE(rows_moved) << "the scrolls were done by moving rows";
  fb.compact();
  fb.expand();
  EXPECT_EQ(std::vector<Pixel>(fb.pixels().begin(), fb.pixels().end()), want);
}

// A scroll of a 1280x800 terminal leaves the rows out of order; pixels() puts them back, copy_to() and put()
// read them through the table.
TEST(PixelBuffer_Copy, RowsOutOfOrderReadThroughEveryAccessor) {
  PixelBuffer fb(1280, 800);
  for (int y = 0; y < 800; ++y) std::fill_n(fb.row(y), 1280, static_cast<Pixel>(y));
  fb.copy({3, 19, 1277, 760}, 3, 3);  // one line of 16 rows up, the 3-pixel border kept
  EXPECT_FALSE(fb.rows_in_order(0, 800));
  EXPECT_EQ(fb.at(0, 3), 3u) << "the border beside the copy stays";
  EXPECT_EQ(fb.at(3, 3), 19u);
  EXPECT_EQ(fb.at(1279, 762), 778u);
  EXPECT_EQ(fb.at(5, 770), 770u) << "rows the copy leaves behind keep their pixels";
  PixelBuffer other;
  fb.copy_to(other);
  EXPECT_EQ(test::picture_of(other), test::picture_of(fb));
  PixelBuffer part(1280, 800);
  part.put({100, 700, 50, 80}, fb);
  EXPECT_EQ(part.at(120, 750), 766u);
  EXPECT_EQ(part.at(120, 699), 0u);
  const auto before = test::picture_of(fb);
  EXPECT_EQ(std::vector<Pixel>(fb.pixels().begin(), fb.pixels().end()), before);
  EXPECT_TRUE(fb.rows_in_order(0, 800));
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

// A checkpoint's picture comes from a file: a flipped byte (in the deflate data or its Adler-32), a cut copy or
// a copy of another size is refused, never half-unpacked into a picture that passes.
TEST(PixelPacking_Unpack, RefusesCorruptTruncatedAndMisSizedCopies) {
  for (const PixelBuffer& original : {test::text_console(320, 200), test::noise(97, 31)}) {
    const auto packed = original.packed();
    PixelBuffer out(original.width(), original.height());
    ASSERT_TRUE(unpack_checked(packed, out.pixels()));
    EXPECT_TRUE(same_pixels(out, original));
    for (const std::size_t at : {packed.data.size() / 2, packed.data.size() - 1}) {  // the data, the checksum
      auto corrupt = packed;
      corrupt.data[at] ^= 0x5a;
      EXPECT_FALSE(unpack_checked(corrupt, out.pixels())) << "byte " << at << " of " << packed.data.size();
    }
    auto cut = packed;
    cut.data.resize(cut.data.size() - 5);
    EXPECT_FALSE(unpack_checked(cut, out.pixels()));
    PixelBuffer smaller(original.width(), original.height() - 1);
    auto claims_fewer = packed;
    claims_fewer.count = smaller.pixels().size();
    EXPECT_FALSE(unpack_checked(claims_fewer, smaller.pixels())) << "the stream holds more than the picture";
  }
}

}  // namespace
}  // namespace vncgate::framebuffer
