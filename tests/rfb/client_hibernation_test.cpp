// SPDX-License-Identifier: Apache-2.0
// ClientConnection's idle-memory mechanisms: hibernate()/wake() and handing a picture to the next connection.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <stdexcept>

#include "framebuffer/test_frames.hpp"
#include "rfb/client_connection.hpp"
#include "rfb/client_test_util.hpp"
#include "rfb/decoders/tight_test_util.hpp"
#include "rfb/decoders/zrle_test_util.hpp"
#include "support/heap.hpp"
#include "util/error.hpp"

namespace vncgate::rfb {
namespace {

using Bytes = std::vector<std::uint8_t>;
using framebuffer::Pixel;
using framebuffer::PixelBuffer;
using test::Wire;
using vncgate::test::heap_in_use;
namespace pictures = framebuffer::test;

ClientOptions options() {
  ClientOptions o;
  o.encodings = {Encoding::tight,        Encoding::zrle,      Encoding::copy_rect, Encoding::raw,
                 Encoding::desktop_size, Encoding::last_rect, Encoding::cursor};
  return o;
}

bool same_pixels(const PixelBuffer& a, const PixelBuffer& b) {
  return a.width() == b.width() && a.height() == b.height() &&
         std::equal(a.pixels().begin(), a.pixels().end(), b.pixels().begin(), b.pixels().end());
}

// A scripted server: encodes rectangles of a source picture as a real one would, with persistent zlib
// streams (Tight stream 0, ZRLE), so later rectangles only decode if the client kept the streams.
class Server {
 public:
  Wire update(int rects) {
    Wire w;
    w.u8(0).u8(0).u16(static_cast<unsigned>(rects));
    return w;
  }
  void raw(Wire& w, const PixelBuffer& src, const Rect& r) {
    header(w, r, Encoding::raw);
    for (int y = r.y; y < r.bottom(); ++y)
      for (int x = r.x; x < r.right(); ++x) w.px(src.at(x, y));
  }
  void tight(Wire& w, const PixelBuffer& src, const Rect& r) {
    header(w, r, Encoding::tight);
    Bytes tpixels;
    for (int y = r.y; y < r.bottom(); ++y)
      for (int x = r.x; x < r.right(); ++x)
        for (int shift : {16, 8, 0}) tpixels.push_back(static_cast<std::uint8_t>(src.at(x, y) >> shift));
    w.raw(test::basic_rect(0x00, tpixels, tight_));  // stream 0, copy filter
  }
  // One raw ZRLE tile: r must be at most 64x64.
  void zrle(Wire& w, const PixelBuffer& src, const Rect& r) {
    header(w, r, Encoding::zrle);
    test::Tiles t;
    t.sub(0);
    for (int y = r.y; y < r.bottom(); ++y)
      for (int x = r.x; x < r.right(); ++x) t.cpx(src.at(x, y));
    w.raw(test::zrle_rect(zrle_, t.bytes));
  }
  void copy(Wire& w, const Rect& dst, int src_x, int src_y) {
    header(w, dst, Encoding::copy_rect);
    w.u16(static_cast<unsigned>(src_x)).u16(static_cast<unsigned>(src_y));
  }

 private:
  static void header(Wire& w, const Rect& r, Encoding e) {
    w.u16(r.x).u16(r.y).u16(r.w).u16(r.h).u32(static_cast<std::uint32_t>(e));
  }
  test::Deflater tight_, zrle_;
};

// Three updates of a 96x64 console: a full Raw frame, then Tight + ZRLE, then all four encodings.
struct Script {
  Wire handshake, first, second, third;
};

Script script() {
  const PixelBuffer a = pictures::text_console(96, 64, 1), b = pictures::text_console(96, 64, 2);
  Server s;
  Script out;
  out.handshake = test::greeting_38_none();
  out.handshake.raw(test::server_init(96, 64).bytes);
  out.first = s.update(1);
  s.raw(out.first, a, {0, 0, 96, 64});
  out.second = s.update(2);
  s.tight(out.second, b, {0, 0, 40, 20});
  s.zrle(out.second, b, {40, 0, 50, 30});
  out.third = s.update(4);
  s.tight(out.third, a, {10, 30, 40, 20});  // both streams continue from the second update
  s.zrle(out.third, a, {50, 34, 40, 30});
  s.copy(out.third, {60, 50, 30, 10}, 0, 0);
  s.raw(out.third, b, {80, 0, 16, 16});
  return out;
}

// The framebuffer after the whole script fed to a connection that never hibernates.
PixelBuffer reference(const Script& s) {
  ClientConnection c(options());
  for (const Wire* w : {&s.handshake, &s.first, &s.second, &s.third}) c.feed(w->bytes);
  EXPECT_EQ(c.updates_completed(), 3u);
  return c.framebuffer();
}

TEST(ClientConnection_Hibernate, BetweenUpdatesDecodesAsIfAwake) {
  const Script s = script();
  ClientConnection c(options());
  c.feed(s.handshake.bytes);
  c.hibernate();  // before any pixels: nothing breaks
  c.feed(s.first.bytes);
  c.feed(s.second.bytes);
  c.hibernate();
  ASSERT_TRUE(c.hibernating());
  EXPECT_EQ(c.server_init().width, 96);
  c.feed(Wire{}.u8(2).bytes);  // a Bell touches no pixels: still asleep
  EXPECT_TRUE(c.hibernating());
  c.feed(s.third.bytes);  // Tight, ZRLE, CopyRect and Raw: woken to decode
  EXPECT_FALSE(c.hibernating());
  EXPECT_EQ(c.updates_completed(), 3u);
  EXPECT_TRUE(same_pixels(c.framebuffer(), reference(s)));
}

TEST(ClientConnection_Hibernate, InsideAPartialMessageKeepsTheUnparsedBytes) {
  const Script s = script();
  ClientConnection c(options());
  c.feed(s.handshake.bytes);
  c.feed(s.first.bytes);
  c.feed(s.second.bytes);
  const std::size_t half = s.third.bytes.size() / 2;
  c.feed({s.third.bytes.data(), half});
  c.hibernate();
  c.feed({s.third.bytes.data() + half, s.third.bytes.size() - half});
  c.wake();
  EXPECT_EQ(c.updates_completed(), 3u);
  EXPECT_TRUE(same_pixels(c.framebuffer(), reference(s)));
}

TEST(ClientConnection_Hibernate, FromAListenerTakesEffectWhenFeedReturns) {
  // A gateway hibernates when an update leaves no viewer waiting; the parser is mid-buffer then.
  struct Sleepy : ClientListener {
    ClientConnection* conn = nullptr;
    int updates = 0;
    void on_update(const Rect&) override {
      ++updates;
      conn->hibernate();
    }
  } sleepy;
  const Script s = script();
  ClientConnection c(options(), &sleepy);
  sleepy.conn = &c;
  std::vector<std::uint8_t> all;
  for (const Wire* w : {&s.handshake, &s.first, &s.second, &s.third})
    all.insert(all.end(), w->bytes.begin(), w->bytes.end());
  std::vector<std::uint8_t> tapped;
  c.set_tap([&](std::span<const std::uint8_t> unit) { tapped.insert(tapped.end(), unit.begin(), unit.end()); });
  c.feed(all);
  EXPECT_EQ(sleepy.updates, 3);
  EXPECT_TRUE(c.hibernating());
  c.wake();
  EXPECT_TRUE(same_pixels(c.framebuffer(), reference(s)));
  // The tap saw every message byte after ServerInit, unchanged.
  const std::size_t messages = s.first.bytes.size() + s.second.bytes.size() + s.third.bytes.size();
  ASSERT_EQ(tapped.size(), messages);
  EXPECT_TRUE(std::equal(tapped.begin(), tapped.end(), all.end() - static_cast<std::ptrdiff_t>(messages)));
}

TEST(ClientConnection_Hibernate, ReleasesBuffersAndWakeRestores) {
  const Script s = script();
  ClientConnection c(options());
  for (const Wire* w : {&s.handshake, &s.first, &s.second}) c.feed(w->bytes);
  const PixelBuffer before = c.framebuffer();
  c.take_output();
  c.request_update(true);  // queued output survives hibernation
  const std::size_t awake = c.buffer_bytes();
  c.hibernate();
  EXPECT_LT(c.buffer_bytes(), awake / 4);
  EXPECT_LT(c.buffer_bytes(), 8u * 1024);  // the compacted 96x64 console and the queued request
  EXPECT_EQ(c.take_output().size(), 10u);
  c.wake();
  EXPECT_FALSE(c.hibernating());
  EXPECT_TRUE(same_pixels(c.framebuffer(), before));
}

// The gateway's reconnect: the old connection's picture goes to the new one.
Wire raw_update(const PixelBuffer& src, const Rect& r) {
  Server server;
  Wire w = server.update(1);
  server.raw(w, src, r);
  return w;
}

TEST(ClientConnection_Adopt, SameSizeKeepsThePictureUntilPainted) {
  const PixelBuffer held = pictures::text_console(96, 64, 5);
  const PixelBuffer fresh = pictures::text_console(96, 64, 6);
  ClientConnection c(options());
  c.adopt_framebuffer(held);
  c.feed(test::greeting_38_none().bytes);
  c.feed(test::server_init(96, 64).bytes);
  ASSERT_TRUE(c.ready());
  EXPECT_TRUE(same_pixels(c.framebuffer(), held));
  EXPECT_FALSE(c.frame_complete());  // nothing painted by this connection yet
  c.feed(raw_update(fresh, {0, 0, 96, 32}).bytes);
  EXPECT_EQ(c.framebuffer().at(5, 20), fresh.at(5, 20));
  EXPECT_EQ(c.framebuffer().at(5, 50), held.at(5, 50));
  EXPECT_FALSE(c.frame_complete());
  c.feed(raw_update(fresh, {0, 32, 96, 32}).bytes);
  EXPECT_TRUE(c.frame_complete());
  EXPECT_TRUE(same_pixels(c.framebuffer(), fresh));
}

TEST(ClientConnection_Adopt, CompactedPictureStaysCompactedUntilNeeded) {
  const PixelBuffer held = pictures::text_console(96, 64, 5);
  PixelBuffer packed = held;
  packed.compact();
  ClientConnection c(options());
  c.adopt_framebuffer(std::move(packed));
  c.feed(test::greeting_38_none().bytes);
  c.feed(test::server_init(96, 64).bytes);
  EXPECT_TRUE(c.hibernating());
  c.wake();
  EXPECT_TRUE(same_pixels(c.framebuffer(), held));
}

TEST(ClientConnection_Adopt, OtherSizeClearsToBlack) {
  ClientConnection c(options());
  c.adopt_framebuffer(pictures::text_console(96, 64));
  c.feed(test::greeting_38_none().bytes);
  c.feed(test::server_init(80, 64).bytes);
  ASSERT_EQ(c.framebuffer().width(), 80);
  const auto px = c.framebuffer().pixels();
  EXPECT_TRUE(std::all_of(px.begin(), px.end(), [](Pixel p) { return p == 0; }));
}

TEST(ClientConnection_Adopt, AfterServerInitIsALogicError) {
  ClientConnection c(options());
  c.feed(test::greeting_38_none().bytes);
  c.feed(test::server_init(8, 8).bytes);
  EXPECT_THROW(c.adopt_framebuffer(PixelBuffer(8, 8)), std::logic_error);
}

TEST(ClientConnection_Take, LeavesTheConnectionWithoutAPicture) {
  const PixelBuffer screen = pictures::text_console(96, 64, 9);
  ClientConnection c(options());
  c.feed(test::greeting_38_none().bytes);
  c.feed(test::server_init(96, 64).bytes);
  c.feed(raw_update(screen, {0, 0, 96, 64}).bytes);
  c.take_output();
  c.hibernate();
  PixelBuffer taken = c.take_framebuffer();
  EXPECT_TRUE(taken.compacted());  // handed over as held: the next connection adopts it compacted
  taken.expand();
  EXPECT_TRUE(same_pixels(taken, screen));
  EXPECT_FALSE(c.hibernating());
  EXPECT_EQ(c.framebuffer().width(), 0);
  EXPECT_EQ(c.framebuffer().height(), 0);
  EXPECT_EQ(c.buffer_bytes(), 0u);
  // A server that keeps painting now paints outside the 0x0 picture: a clean error, no crash.
  EXPECT_THROW(c.feed(raw_update(screen, {0, 0, 4, 4}).bytes), ProtocolError);
}

// Measures what hibernate() saves on a 640x480 console (issue 7 budgets 200 KiB per gateway session).
// `zlib_rects` adds rectangles after the Raw frame (to count the zlib streams Tight and ZRLE keep).
std::pair<std::size_t, std::size_t> measure(const char* label, bool zlib_rects) {
  const PixelBuffer screen = pictures::text_console(640, 480);
  Server server;
  Wire wire = test::greeting_38_none();
  wire.raw(test::server_init(640, 480).bytes);
  Wire frame = server.update(zlib_rects ? 3 : 1);
  server.raw(frame, screen, screen.bounds());
  if (zlib_rects) {
    server.tight(frame, screen, {0, 0, 64, 64});
    server.zrle(frame, screen, {64, 0, 64, 64});
  }
  wire.raw(frame.bytes);

  const std::size_t base = heap_in_use();
  auto c = std::make_unique<ClientConnection>(options());
  for (std::size_t at = 0; at < wire.bytes.size(); at += 16 * 1024)  // as AsyncClient reads
    c->feed({wire.bytes.data() + at, std::min<std::size_t>(16 * 1024, wire.bytes.size() - at)});
  c->take_output();
  EXPECT_TRUE(c->frame_complete());
  const std::size_t awake = heap_in_use() - base;
  c->hibernate();
  const std::size_t asleep = heap_in_use() - base;
  std::printf("[ measure  ] %s: awake %zu B, hibernating %zu B (framebuffer %zu B compacted)\n", label, awake, asleep,
              c->buffer_bytes());
  c->wake();
  EXPECT_TRUE(same_pixels(c->framebuffer(), screen));
  return {awake, asleep};
}

TEST(ClientConnection_Hibernate, Idle640x480ConsoleFitsInTensOfKiB) {
  if (!vncgate::test::heap_statistics_work())
    GTEST_SKIP() << "mallinfo2 does not see this build's allocator (sanitizers)";
  const auto [awake, asleep] = measure("640x480 Raw", false);
  EXPECT_GT(awake, 640u * 480 * 4);
  EXPECT_LT(asleep, 48u * 1024);
  // Tight and ZRLE streams hibernate too: their 7 KiB state and 32 KiB window become a deflated dictionary.
  const std::size_t asleep_z = measure("640x480 Raw+Tight+ZRLE", true).second;
  EXPECT_LT(asleep_z, asleep + 8 * 1024);
}

}  // namespace
}  // namespace vncgate::rfb
