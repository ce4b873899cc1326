// SPDX-License-Identifier: Apache-2.0
#include "framebuffer/damage.hpp"

#include <gtest/gtest.h>

namespace vncgate::framebuffer {
namespace {

// Every pixel of `r` is covered by some rectangle of `d`.
bool covers(const Damage& d, const Rect& r) {
  for (int y = r.y; y < r.bottom(); ++y)
    for (int x = r.x; x < r.right(); ++x) {
      bool hit = false;
      for (const auto& c : d.rects()) hit |= c.intersect({x, y, 1, 1}) == Rect{x, y, 1, 1};
      if (!hit) return false;
    }
  return true;
}

TEST(Damage, ScatteredChangesStaySeparate_TheirBoundingBoxIsNotSent) {
  Damage d;
  d.add({0, 0, 10, 10});
  d.add({500, 300, 20, 16});
  d.add({5, 5, 2, 2});  // inside the first
  ASSERT_EQ(d.rects().size(), 2u);
  EXPECT_EQ(d.area(), 100 + 320);
  EXPECT_EQ(d.bounds(), (Rect{0, 0, 520, 316}));
}

TEST(Damage, NeighboursWithEqualEdgesMergeForFree) {
  Damage d;
  for (int x = 0; x < 160; x += 8) d.add({x, 32, 8, 16});  // a line of glyphs
  ASSERT_EQ(d.rects().size(), 1u);
  EXPECT_EQ(d.rects()[0], (Rect{0, 32, 160, 16}));
  d.add({0, 48, 160, 16});  // the next line
  ASSERT_EQ(d.rects().size(), 1u);
  EXPECT_EQ(d.rects()[0], (Rect{0, 32, 160, 32}));
}

TEST(Damage, BeyondTheLimitMergesWithTheLeastWaste_NothingIsLost) {
  Damage d;
  std::vector<Rect> added;
  for (int i = 0; i < 300; ++i) {
    const Rect r{(i * 97) % 1200, (i * 61) % 760, 3 + i % 20, 2 + i % 13};
    d.add(r);
    added.push_back(r);
  }
  EXPECT_LE(d.rects().size(), Damage::kMaxRects);
  for (const auto& r : added) EXPECT_TRUE(covers(d, r)) << r.x << "," << r.y;
  EXPECT_LT(d.area(), 1280LL * 800);
}

TEST(Damage, IntersectSubtractTranslate) {
  Damage d;
  d.add({0, 0, 100, 10});
  d.add({0, 50, 100, 10});
  EXPECT_EQ(d.intersect({0, 5, 50, 50}).rects().size(), 2u);
  EXPECT_EQ(d.intersect({0, 5, 50, 50}).area(), 50 * 5 + 50 * 5);
  d.subtract({0, 0, 100, 5});  // cuts a band off the first
  EXPECT_EQ(d.area(), 100 * 5 + 100 * 10);
  d.subtract({0, 0, 200, 200});
  EXPECT_TRUE(d.empty());
  Damage t(Rect{10, 10, 5, 5});
  EXPECT_EQ(t.translated(-10, 5).rects()[0], (Rect{0, 15, 5, 5}));
}

}  // namespace
}  // namespace vncgate::framebuffer
