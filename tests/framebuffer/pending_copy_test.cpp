// SPDX-License-Identifier: Apache-2.0
// PendingCopy against a model: a server picture changes (paint, moves of pieces by one offset) while a
// viewer's copy lags; whenever the viewer is sent its update (the pending pieces applied one after the other
// in their order, then the dirty rectangles from the server picture) it must equal the server's picture.
#include "framebuffer/pending_copy.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace vncgate::framebuffer {
namespace {

constexpr int kW = 64, kH = 48;

struct Picture {
  std::vector<std::uint32_t> px = std::vector<std::uint32_t>(kW * kH);
  std::uint32_t& at(int x, int y) { return px[static_cast<std::size_t>(y * kW + x)]; }
  // Every pixel of `dsts` takes the one (dx, dy) away, all read first.
  void move(const std::vector<Rect>& dsts, int dx, int dy) {
    const Picture before = *this;
    for (const auto& d : dsts)
      for (int y = d.y; y < d.bottom(); ++y)
        for (int x = d.x; x < d.right(); ++x) at(x, y) = before.px[static_cast<std::size_t>((y - dy) * kW + x - dx)];
  }
  void copy_from(const Picture& other, const Rect& r) {
    for (int y = r.y; y < r.bottom(); ++y)
      for (int x = r.x; x < r.right(); ++x) at(x, y) = other.px[static_cast<std::size_t>(y * kW + x)];
  }
};

// A region cut into pieces the way a VNC server reports a scroll around a cursor: bands, split across.
std::vector<Rect> pieces_of(const Rect& r, std::mt19937& rng) {
  std::vector<Rect> out;
  int y = r.y;
  while (y < r.bottom()) {
    const int h = std::min(r.bottom() - y, 1 + static_cast<int>(rng() % 12));
    if (rng() % 3 == 0 && r.w > 2) {
      const int cut = r.x + 1 + static_cast<int>(rng() % static_cast<unsigned>(r.w - 1));
      out.push_back({r.x, y, cut - r.x, h});
      if (rng() % 4 != 0) out.push_back({cut, y, r.right() - cut, h});  // sometimes a hole
    } else {
      out.push_back({r.x, y, r.w, h});
    }
    y += h;
  }
  return out;
}

TEST(PendingCopy, ViewerAlwaysEndsEqualToTheServerPicture) {
  std::mt19937 rng(7);
  int copied_pieces = 0;
  for (int trial = 0; trial < 300; ++trial) {
    Picture server, viewer;
    for (auto& p : server.px) p = rng();
    viewer = server;
    PendingCopy pending;
    Damage dirty;
    for (int step = 0; step < 40; ++step) {
      const unsigned what = rng() % 10;
      if (what < 3) {  // paint
        const int x = static_cast<int>(rng() % kW), y = static_cast<int>(rng() % kH);
        const Rect r =
            Rect{x, y, 1 + static_cast<int>(rng() % 20), 1 + static_cast<int>(rng() % 20)}.intersect({0, 0, kW, kH});
        for (int yy = r.y; yy < r.bottom(); ++yy)
          for (int xx = r.x; xx < r.right(); ++xx) server.at(xx, yy) = rng();
        dirty.add(r);
      } else if (what < 8) {  // a move: mostly vertical scrolls, sometimes sideways or diagonal
        const int dy = static_cast<int>(rng() % 13) - 6;
        const int dx = rng() % 4 == 0 ? static_cast<int>(rng() % 9) - 4 : 0;
        const Rect area{std::max(0, dx), std::max(0, dy), kW - std::abs(dx), kH - std::abs(dy)};
        const int shrink = static_cast<int>(rng() % 8);
        const Rect region{area.x + shrink, area.y, area.w - 2 * shrink, area.h};
        if (region.empty()) continue;
        const auto pieces = pieces_of(region, rng);
        server.move(pieces, dx, dy);
        pending.add(pieces, dx, dy, dirty);
      } else {  // the viewer takes its update
        for (const auto& p : pending.pieces()) viewer.move({p}, pending.dx(), pending.dy());
        copied_pieces += static_cast<int>(pending.pieces().size());
        for (const auto& r : dirty.rects()) viewer.copy_from(server, r);
        pending.clear();
        dirty.clear();
        ASSERT_EQ(viewer.px, server.px) << "trial " << trial << " step " << step;
      }
    }
  }
  EXPECT_GT(copied_pieces, 1000) << "copies were given up instead of sent";
}

TEST(PendingCopy, TwoScrollsInPiecesComposeIntoPiecesByTheSum) {
  const std::vector<Rect> scroll{{0, 0, 30, 40}, {30, 0, 34, 20}, {30, 20, 34, 20}};  // up by 4, in three pieces
  PendingCopy pending;
  Damage dirty;
  pending.add(scroll, 0, -4, dirty);
  pending.add(scroll, 0, -4, dirty);
  EXPECT_EQ(pending.dy(), -8);
  EXPECT_EQ(pending.dx(), 0);
  EXPECT_EQ(pending.area(), 64 * 36);
  EXPECT_LE(dirty.area(), 2 * 64 * 4) << "only the rows the second scroll could not take from the first";
  // Moving up: the pieces go top first, each reading below what earlier ones wrote.
  for (std::size_t i = 1; i < pending.pieces().size(); ++i) EXPECT_LE(pending.pieces()[i - 1].y, pending.pieces()[i].y);
}

TEST(PendingCopy, AnUnrelatedSmallerCopyGoesAsPixelsAndBackAndForthCancels) {
  PendingCopy pending;
  Damage dirty;
  const Rect big{0, 0, 64, 40};
  pending.add({&big, 1}, 0, -8, dirty);
  const Rect small{0, 0, 4, 4};
  pending.add({&small, 1}, 40, 44, dirty);  // source (−40,−44) is nowhere near: unrelated, and smaller
  EXPECT_EQ(pending.area(), big.area());
  EXPECT_EQ(dirty.bounds(), small);
  PendingCopy there_and_back;
  Damage d2;
  const Rect down{0, 8, 64, 40}, up{0, 0, 64, 40};
  there_and_back.add({&down, 1}, 0, 8, d2);
  there_and_back.add({&up, 1}, 0, -8, d2);
  EXPECT_TRUE(there_and_back.empty()) << "a copy onto itself is no copy";
}

}  // namespace
}  // namespace vncgate::framebuffer
