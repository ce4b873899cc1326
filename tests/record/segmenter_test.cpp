// SPDX-License-Identifier: Apache-2.0
// The segment timeline in isolation: boundaries at exact instants, the held screen opening each segment,
// keep-alive repeats, early stop. A recording sink stands in for the MP4 writer (tested against QEMU and
// ffprobe in tests/integration/record_test.cpp).
#include "record/segmenter.hpp"

#include <gtest/gtest.h>

#include <map>
#include <vector>

namespace vncgate::record {
namespace {

struct Written {
  int segment;
  std::int64_t t;
  framebuffer::Pixel colour;
};

class Timeline : public testing::Test {
 protected:
  class Sink : public SegmentSink {
   public:
    Sink(Timeline& owner, int index) : owner_(owner), index_(index) {}
    void write(const framebuffer::PixelBuffer& frame, std::int64_t t) override {
      last_ = frame.at(0, 0);
      repeat(t);
    }
    void repeat(std::int64_t t) override {
      owner_.writes.push_back({index_, t, last_});
      ++frames_;
    }
    SegmentStats finish(std::int64_t end) override { return {frames_, 0, end}; }

   private:
    Timeline& owner_;
    int index_;
    std::int64_t frames_ = 0;
    framebuffer::Pixel last_ = 0;
  };

  Segmenter make(std::int64_t duration, int count) {
    return Segmenter(
        duration, count, [this](int index, std::int64_t start) {
          opened[index] = start;
          return std::make_unique<Sink>(*this, index);
        },
        [this](int index, std::int64_t start, std::int64_t end, const SegmentStats& stats) {
          closed.push_back({index, start, end});
          frames.push_back(stats.frames);
        });
  }
  static framebuffer::PixelBuffer screen(framebuffer::Pixel colour) {
    framebuffer::PixelBuffer b(4, 4);
    b.fill(b.bounds(), colour);
    return b;
  }

  std::vector<Written> writes;
  std::map<int, std::int64_t> opened;
  struct Closed {
    int index;
    std::int64_t start, end;
  };
  std::vector<Closed> closed;
  std::vector<std::int64_t> frames;
};

TEST_F(Timeline, SegmentsTileTheTimelineAndTheHeldScreenOpensEachOne) {
  auto s = make(1000, 3);
  s.frame(screen(1), 0);
  s.frame(screen(2), 400);
  s.advance(1000);                 // boundary: segment 2 opens with screen 2 at exactly 1000
  s.frame(screen(3), 1700);
  s.advance(3000);                 // two boundaries at once: segment 2 ends, 3 opens and ends
  ASSERT_TRUE(s.done());
  ASSERT_EQ(closed.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(closed[i].start, i * 1000);
    EXPECT_EQ(closed[i].end, (i + 1) * 1000);
  }
  // Segment 2 starts with the screen shown at its start (2), segment 3 with screen 3.
  std::vector<std::pair<int, std::int64_t>> firsts;
  for (const auto& w : writes)
    if (firsts.empty() || firsts.back().first != w.segment) firsts.push_back({w.segment, w.t});
  ASSERT_EQ(firsts.size(), 3u);
  EXPECT_EQ(firsts[1], std::make_pair(1, std::int64_t{1000}));
  EXPECT_EQ(firsts[2], std::make_pair(2, std::int64_t{2000}));
  for (const auto& w : writes) {
    if (w.t == 1000) {
      EXPECT_EQ(w.colour, 2u);
    }
    if (w.t == 2000) {
      EXPECT_EQ(w.colour, 3u);
    }
  }
}

TEST_F(Timeline, AnIdleScreenIsRepeatedAtTheKeepAliveInterval) {
  auto s = make(10000, 1);
  s.frame(screen(7), 0);
  EXPECT_EQ(*s.next_deadline(), 1000);
  for (std::int64_t t = 100; t <= 3000; t += 100) s.advance(t);
  std::vector<std::int64_t> times;
  for (const auto& w : writes) times.push_back(w.t);
  EXPECT_EQ(times, (std::vector<std::int64_t>{0, 1000, 2000, 3000}));
}

TEST_F(Timeline, AFrameAfterSeveralBoundariesClosesEachSegmentInOrder) {
  auto s = make(1000, 4);
  s.frame(screen(1), 0);
  s.frame(screen(2), 2500);  // the network thread was quick, the encoder late: boundaries 1000 and 2000 first
  ASSERT_EQ(closed.size(), 2u);
  EXPECT_EQ(opened.at(2), 2000);
  EXPECT_EQ(writes.back().segment, 2);
  EXPECT_EQ(writes.back().t, 2500);
}

TEST_F(Timeline, StopEndsTheOpenSegmentAtThatInstant) {
  auto s = make(1000, 5);
  s.frame(screen(1), 0);
  s.advance(1200);
  s.stop(1750);
  EXPECT_TRUE(s.done());
  ASSERT_EQ(closed.size(), 2u);
  EXPECT_EQ(closed[1].start, 1000);
  EXPECT_EQ(closed[1].end, 1750);
  EXPECT_FALSE(s.next_deadline());
  s.frame(screen(2), 1800);  // ignored after the end
  EXPECT_EQ(closed.size(), 2u);
}

TEST_F(Timeline, FramesAfterTheLastSegmentAreIgnored) {
  auto s = make(500, 2);
  s.frame(screen(1), 0);
  auto returned = s.frame(screen(2), 1200);
  EXPECT_TRUE(s.done());
  EXPECT_EQ(closed.size(), 2u);
  EXPECT_EQ(returned.at(0, 0), 2u);  // handed back untouched
}

TEST(Segmenter, RejectsNonPositiveDurationOrCount) {
  auto open = [](int, std::int64_t) { return std::unique_ptr<SegmentSink>(); };
  EXPECT_THROW(Segmenter(0, 1, open, {}), std::invalid_argument);
  EXPECT_THROW(Segmenter(1000, 0, open, {}), std::invalid_argument);
}

}  // namespace
}  // namespace vncgate::record
