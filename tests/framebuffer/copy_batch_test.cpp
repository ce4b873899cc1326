// SPDX-License-Identifier: Apache-2.0
#include "framebuffer/copy_batch.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "framebuffer/test_frames.hpp"

namespace vncgate::framebuffer {
namespace {

struct Copy {
  Rect src;
  int dst_x, dst_y;
};

// Applies `copies` through a CopyBatch the way ClientConnection does (a piece that cannot join applies the batch
// first), and one by one, pixel by pixel, on a plain reference picture: the two must agree.
void apply_both(PixelBuffer& fb, std::vector<Pixel>& want, const std::vector<Copy>& copies) {
  CopyBatch batch;
  for (const auto& c : copies) {
    if (!batch.add(c.src, c.dst_x, c.dst_y)) {
      batch.apply_to(fb);
      ASSERT_TRUE(batch.add(c.src, c.dst_x, c.dst_y)) << "an empty batch takes any copy";
    }
    test::reference_copy(want, fb.width(), c.src, c.dst_x, c.dst_y);
  }
  batch.apply_to(fb);
  EXPECT_TRUE(batch.empty());
}

PixelBuffer numbered(int w, int h) {
  PixelBuffer fb(w, h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) fb.row(y)[x] = static_cast<Pixel>(y << 12 | x);
  return fb;
}

// One scroll of an xterm as Xvnc sent it (a capture of bench/gateway.sh's busy console): seven pieces moved 16
// rows up around the pointer it draws (two 9x16 holes), a 3-pixel margin on the left. In one step: the rows
// turn (they are out of order after it) and every pixel is where piece-by-piece copying puts it, scroll after
// scroll.
TEST(CopyBatch_Apply, XvncScrollInSevenPiecesMatchesPieceByPiece) {
  const std::vector<Rect> dsts{{3, 3, 1277, 372}, {3, 375, 633, 16},   {645, 375, 635, 16}, {3, 391, 1277, 1},
                               {3, 392, 633, 16}, {645, 392, 635, 16}, {3, 408, 1277, 358}};
  PixelBuffer fb = numbered(1280, 800);
  auto want = test::picture_of(fb);
  for (int scroll = 0; scroll < 30; ++scroll) {
    std::vector<Copy> copies;
    for (const auto& d : dsts) copies.push_back({{d.x, d.y + 16, d.w, d.h}, d.x, d.y});
    apply_both(fb, want, copies);
    if (scroll == 0) EXPECT_FALSE(fb.rows_in_order(0, 800)) << "the pieces were applied by turning rows";
    fb.fill({2, 766 + scroll % 4, 500, 16}, static_cast<Pixel>(0xabc000 + scroll));  // the new line
    for (int y = 766 + scroll % 4; y < 782 + scroll % 4; ++y)
      std::fill_n(want.begin() + y * 1280 + 2, 500, static_cast<Pixel>(0xabc000 + scroll));
    ASSERT_EQ(test::picture_of(fb), want) << "scroll " << scroll;
  }
}

// Random batches: bands nearly as wide as the picture with holes and margins, moved up or down, sent top-down
// or bottom-up, mixed with narrow and sideways copies and pieces that read what an earlier one wrote (those
// start a new batch). Always the picture of one-by-one copying.
TEST(CopyBatch_Apply, RandomPiecesMatchOneByOne) {
  constexpr int kW = 96, kH = 64;
  std::mt19937 rng(20261207);
  PixelBuffer fb = numbered(kW, kH);
  auto want = test::picture_of(fb);
  bool rotated = false;
  for (int round = 0; round < 400; ++round) {
    std::vector<Copy> copies;
    const int dy = (rng() % 2 ? 1 : -1) * (1 + static_cast<int>(rng() % 5));
    const int dx = rng() % 5 == 0 ? static_cast<int>(rng() % 5) - 2 : 0;
    // A band cut into rows of pieces, some split around a hole.
    const int top = std::max(0, dy) + static_cast<int>(rng() % 6);
    const int bottom = kH - std::max(0, -dy) - static_cast<int>(rng() % 6);
    const int margin = std::max(0, dx) + static_cast<int>(rng() % 3);
    const int right = kW - std::max(0, -dx);
    std::vector<Copy> band;
    for (int y = top; y < bottom;) {
      const int h = std::min(bottom - y, 1 + static_cast<int>(rng() % 20));
      if (rng() % 3 == 0 && right - margin > 20) {  // a hole in this strip
        const int hole = margin + 5 + static_cast<int>(rng() % (right - margin - 15));
        band.push_back({{margin - dx, y - dy, hole - margin, h}, margin, y});
        band.push_back({{hole + 4 - dx, y - dy, right - hole - 4, h}, hole + 4, y});
      } else {
        band.push_back({{margin - dx, y - dy, right - margin, h}, margin, y});
      }
      y += h;
    }
    // Moving up, top-down never reads an earlier piece's destination; moving down, bottom-up. The other
    // order is sent sometimes too (then pieces start new batches, or one-by-one matters).
    if ((dy > 0) != (rng() % 4 == 0)) std::reverse(band.begin(), band.end());
    copies.insert(copies.end(), band.begin(), band.end());
    if (rng() % 3 == 0) {  // a small copy elsewhere
      const Rect src{static_cast<int>(rng() % (kW - 10)), static_cast<int>(rng() % (kH - 10)), 10, 10};
      copies.push_back({src, static_cast<int>(rng() % (kW - 10)), static_cast<int>(rng() % (kH - 10))});
    }
    apply_both(fb, want, copies);
    rotated = rotated || !fb.rows_in_order(0, kH);
    ASSERT_EQ(test::picture_of(fb), want) << "round " << round;
    if (round % 7 == 0) {  // new pixels between scrolls, so that rows differ
      const Rect r{static_cast<int>(rng() % kW), static_cast<int>(rng() % kH), 1, 1};
      fb.fill(r, static_cast<Pixel>(rng() & 0xffffff));
      want[std::size_t(r.y) * kW + r.x] = fb.at(r.x, r.y);
    }
  }
  EXPECT_TRUE(rotated) << "some batches were applied by turning rows";
}

TEST(CopyBatch_Add, RefusesAnotherOffsetAndASourceAnEarlierPieceWrites) {
  CopyBatch batch;
  EXPECT_TRUE(batch.add({0, 20, 50, 10}, 0, 10));  // rows 20-29 to 10-19
  EXPECT_FALSE(batch.add({0, 40, 50, 10}, 0, 35)) << "another offset";
  EXPECT_FALSE(batch.add({0, 15, 50, 10}, 0, 5)) << "reads rows 15-19, which the first piece wrote";
  EXPECT_TRUE(batch.add({0, 30, 50, 10}, 0, 20)) << "reads rows 30-39: no piece wrote them";
  PixelBuffer fb = numbered(50, 40);
  auto want = test::picture_of(fb);
  batch.apply_to(fb);
  test::reference_copy(want, 50, {0, 20, 50, 10}, 0, 10);
  test::reference_copy(want, 50, {0, 30, 50, 10}, 0, 20);
  EXPECT_EQ(test::picture_of(fb), want);
}

}  // namespace
}  // namespace vncgate::framebuffer
