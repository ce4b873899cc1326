// SPDX-License-Identifier: Apache-2.0
#include "rfb/client_connection.hpp"

#include <gtest/gtest.h>

#include "framebuffer/test_frames.hpp"
#include "rfb/client_test_util.hpp"
#include "rfb/decoders/decoder_test_util.hpp"
#include "rfb/security/vnc_auth.hpp"
#include "util/error.hpp"

namespace vncgate::rfb {
namespace {

using test::greeting_38_none;
using test::server_init;
using test::text;
using test::Wire;

struct Recorder : ClientListener {
  int updates = 0;
  Rect damage;
  int resizes = 0;
  int cursors = 0;
  void on_update(const Rect& d) override {
    ++updates;
    damage = d;
  }
  void on_resize(int, int) override { ++resizes; }
  void on_cursor() override { ++cursors; }
};

ClientOptions raw_only() {
  ClientOptions o;
  o.encodings = {Encoding::raw, Encoding::copy_rect, Encoding::desktop_size, Encoding::last_rect, Encoding::cursor};
  return o;
}

TEST(ClientConnection_Handshake, Rfb38NoneSendsInitMessagesAndFullRequest) {
  ClientConnection c(raw_only());
  c.feed(greeting_38_none().bytes);
  c.feed(server_init(4, 2).bytes);
  ASSERT_TRUE(c.ready());
  EXPECT_EQ(c.server_init().name, "test");
  auto out = c.take_output();
  const std::string version(out.begin(), out.begin() + 12);
  EXPECT_EQ(version, "RFB 003.008\n");
  EXPECT_EQ(out[12], 1);       // security None
  EXPECT_EQ(out[13], 1);       // shared
  EXPECT_EQ(out[14], 0);       // SetPixelFormat
  EXPECT_EQ(out[14 + 20], 2);  // SetEncodings
  const std::size_t fbur = 14 + 20 + 4 + 4 * 5;
  ASSERT_EQ(out.size(), fbur + 10);
  EXPECT_EQ(out[fbur], 3);
  EXPECT_EQ(out[fbur + 1], 0);  // non-incremental
  EXPECT_TRUE(c.update_pending());
}

TEST(ClientConnection_Update, RawRectDecodedAndReported) {
  Recorder events;
  ClientConnection c(raw_only(), &events);
  c.feed(greeting_38_none().bytes);
  c.feed(server_init(4, 2).bytes);
  Wire u;
  u.u8(0).u8(0).u16(1).u16(1).u16(1).u16(2).u16(1).u32(0).px(0xabcdef).px(0x123456);
  c.feed(u.bytes);
  EXPECT_EQ(events.updates, 1);
  EXPECT_EQ(events.damage, (Rect{1, 1, 2, 1}));
  EXPECT_EQ(c.framebuffer().at(1, 1), 0xabcdefu);
  EXPECT_EQ(c.framebuffer().at(2, 1), 0x123456u);
  EXPECT_EQ(c.stats().at(0).rects, 1u);
  // Part of the screen was never painted, so the connection asked again (incrementally) by itself.
  EXPECT_FALSE(c.frame_complete());
  EXPECT_TRUE(c.update_pending());
  c.take_output();
  Wire rest;
  rest.u8(0).u8(0).u16(1).u16(0).u16(0).u16(4).u16(2).u32(0);
  for (int i = 0; i < 8; ++i) rest.px(0x010101);
  c.feed(rest.bytes);
  EXPECT_TRUE(c.frame_complete());
  EXPECT_FALSE(c.update_pending());
  EXPECT_TRUE(c.take_output().empty());
}

TEST(ClientConnection_Update, ByteAtATimeEqualsAllAtOnce) {
  Wire all = greeting_38_none();
  all.raw(server_init(8, 8).bytes);
  all.u8(0).u8(0).u16(2);
  all.u16(0).u16(0).u16(2).u16(2).u32(0).px(1).px(2).px(3).px(4);
  all.u16(4).u16(4).u16(2).u16(2).u32(1).u16(0).u16(0);  // CopyRect from (0,0)
  ClientConnection whole(raw_only()), bytewise(raw_only());
  whole.feed(all.bytes);
  for (auto b : all.bytes) bytewise.feed({&b, 1});
  EXPECT_EQ(whole.updates_completed(), 1u);
  EXPECT_EQ(bytewise.updates_completed(), 1u);
  EXPECT_TRUE(std::equal(whole.framebuffer().pixels().begin(), whole.framebuffer().pixels().end(),
                         bytewise.framebuffer().pixels().begin()));
  EXPECT_EQ(bytewise.framebuffer().at(5, 5), 4u);
}

// A scroll in pieces (the way Xvnc cuts one around the pointer it draws) with a raw rectangle between them, over
// the first pieces' source, whose pixels a later piece copies: the copies of one update go in one step, yet every pixel
// is where applying the rectangles one after the other puts it, fed at once or byte by byte (copies still waiting at
// the end of a feed are applied then, so the picture between feeds never lacks them).
TEST(ClientConnection_Update, AScrollInPiecesAndARawRectBetweenMatchOneByOne) {
  constexpr int kW = 64, kH = 48;
  Wire all = greeting_38_none();
  all.raw(server_init(kW, kH).bytes);
  std::vector<framebuffer::Pixel> want(std::size_t(kW) * kH);
  all.u8(0).u8(0).u16(1).u16(0).u16(0).u16(kW).u16(kH).u32(0);
  for (int i = 0; i < kW * kH; ++i) all.px(want[std::size_t(i)] = static_cast<framebuffer::Pixel>(i * 7919 & 0xffffff));
  struct Piece {
    Rect src;
    int x, y;
  };
  const std::vector<Piece> before{{{1, 4, 63, 20}, 1, 0}, {{1, 24, 30, 4}, 1, 20}, {{34, 24, 30, 4}, 34, 20}};
  const std::vector<Piece> after{{{1, 28, 63, 16}, 1, 24}, {{5, 22, 20, 4}, 5, 18}};
  const Rect raw{0, 22, 64, 4};  // over the first pieces' source, and the last piece's
  all.u8(0).u8(0).u16(static_cast<unsigned>(before.size() + 1 + after.size()));
  const auto copy = [&](const Piece& p) {
    all.u16(p.x).u16(p.y).u16(p.src.w).u16(p.src.h).u32(1).u16(p.src.x).u16(p.src.y);
    framebuffer::test::reference_copy(want, kW, p.src, p.x, p.y);
  };
  for (const auto& p : before) copy(p);
  const std::size_t after_before = all.bytes.size();
  const auto want_then = want;
  all.u16(raw.x).u16(raw.y).u16(raw.w).u16(raw.h).u32(0);
  for (int y = raw.y; y < raw.bottom(); ++y)
    for (int x = raw.x; x < raw.right(); ++x) all.px(want[std::size_t(y) * kW + x] = 0x100000u + y * 256u + x);
  for (const auto& p : after) copy(p);
  ClientConnection whole(raw_only()), bytewise(raw_only());
  whole.feed(all.bytes);
  for (std::size_t i = 0; i < all.bytes.size(); ++i) {
    bytewise.feed({&all.bytes[i], 1});
    if (i + 1 == after_before)
      EXPECT_EQ(framebuffer::test::picture_of(bytewise.framebuffer()), want_then) << "between feeds";
  }
  EXPECT_EQ(whole.updates_completed(), 2u);
  EXPECT_EQ(framebuffer::test::picture_of(whole.framebuffer()), want);
  EXPECT_EQ(framebuffer::test::picture_of(bytewise.framebuffer()), want);
}

TEST(ClientConnection_Update, LastRectEndsUpdateWithUnknownCount) {
  Recorder events;
  ClientConnection c(raw_only(), &events);
  c.feed(greeting_38_none().bytes);
  c.feed(server_init(2, 2).bytes);
  Wire u;
  u.u8(0).u8(0).u16(0xffff).u16(0).u16(0).u16(1).u16(1).u32(0).px(7);
  u.u16(0).u16(0).u16(0).u16(0).u32(static_cast<std::uint32_t>(Encoding::last_rect));
  c.feed(u.bytes);
  EXPECT_EQ(events.updates, 1);
}

TEST(ClientConnection_Update, DesktopSizeAndCursorPseudoEncodings) {
  Recorder events;
  ClientConnection c(raw_only(), &events);
  c.feed(greeting_38_none().bytes);
  c.feed(server_init(2, 2).bytes);
  Wire u;
  u.u8(0).u8(0).u16(2);
  u.u16(0).u16(0).u16(10).u16(6).u32(static_cast<std::uint32_t>(Encoding::desktop_size));
  u.u16(1).u16(0).u16(2).u16(1).u32(static_cast<std::uint32_t>(Encoding::cursor)).px(0xff0000).px(0x00ff00).u8(0x80);
  c.feed(u.bytes);
  EXPECT_EQ(c.framebuffer().width(), 10);
  EXPECT_EQ(events.resizes, 1);
  ASSERT_EQ(events.cursors, 1);
  EXPECT_EQ(c.cursor().width, 2);
  EXPECT_EQ(c.cursor().hotspot_x, 1);
  EXPECT_EQ(c.cursor().mask[0], 1);
  EXPECT_EQ(c.cursor().mask[1], 0);
  EXPECT_EQ(c.cursor().pixels[0], 0xff0000u);
}

TEST(ClientConnection_Update, EmptyCursorFromTigerVncIsAccepted) {
  // Regression (fuzz_server_messages): Xvnc sends a 0x0 Cursor; converting zero pixels into an empty vector
  // passed a null pointer to memcpy.
  ClientConnection c(raw_only());
  c.feed(greeting_38_none().bytes);
  c.feed(server_init(2, 2).bytes);
  Wire u;
  u.u8(0).u8(0).u16(1).u16(0).u16(0).u16(0).u16(0).u32(static_cast<std::uint32_t>(Encoding::cursor));
  c.feed(u.bytes);
  EXPECT_TRUE(c.cursor().empty());
  EXPECT_EQ(c.updates_completed(), 1u);
}

TEST(ClientConnection_Malformed, HugeDesktopSizeIsProtocolError) {
  // 16384x16384 passes the per-side limit but would allocate over 1 GiB from a 16-byte message.
  ClientConnection c(raw_only());
  c.feed(greeting_38_none().bytes);
  c.feed(server_init(2, 2).bytes);
  Wire u;
  u.u8(0).u8(0).u16(1).u16(0).u16(0).u16(16384).u16(16384).u32(static_cast<std::uint32_t>(Encoding::desktop_size));
  EXPECT_THROW(c.feed(u.bytes), ProtocolError);
}

TEST(ClientConnection_Malformed, ScreensOverTheConfiguredCapAreProtocolErrors) {
  ClientOptions o = raw_only();
  o.max_pixels = 64 * 64;
  ClientConnection fits(o);
  fits.feed(greeting_38_none().bytes);
  EXPECT_NO_THROW(fits.feed(server_init(64, 64).bytes));
  Wire u;
  u.u8(0).u8(0).u16(1).u16(0).u16(0).u16(128).u16(64).u32(static_cast<std::uint32_t>(Encoding::desktop_size));
  EXPECT_THROW(fits.feed(u.bytes), ProtocolError);
  ClientConnection over(o);
  over.feed(greeting_38_none().bytes);
  EXPECT_THROW(over.feed(server_init(65, 64).bytes), ProtocolError);
}

// Connections sharing a budget: a picture that does not fit is refused, and a closed connection gives its
// memory back.
TEST(ClientConnection_Malformed, PicturesShareOneMemoryBudget) {
  ClientOptions o = raw_only();
  o.picture_budget = std::make_shared<PictureBudget>(64 * 64 * 5 * 3 / 2);
  auto first = std::make_unique<ClientConnection>(o);
  first->feed(greeting_38_none().bytes);
  first->feed(server_init(64, 64).bytes);
  EXPECT_EQ(o.picture_budget->used(), 64u * 64 * 5);
  ClientConnection second(o);
  second.feed(greeting_38_none().bytes);
  EXPECT_THROW(second.feed(server_init(64, 64).bytes), ProtocolError);
  first.reset();
  EXPECT_EQ(o.picture_budget->used(), 0u);
  ClientConnection third(o);
  third.feed(greeting_38_none().bytes);
  EXPECT_NO_THROW(third.feed(server_init(64, 64).bytes));
}

TEST(ClientConnection_Auth, Rfb33VncAuthAnswersChallengeAndReportsFailure) {
  ClientOptions o = raw_only();
  o.password = "secret12";
  ClientConnection c(o);
  Wire w;
  text(w, "RFB 003.003\n").u32(2);
  std::array<std::uint8_t, 16> challenge;
  for (int i = 0; i < 16; ++i) challenge[i] = static_cast<std::uint8_t>(i * 7);
  w.raw({challenge.begin(), challenge.end()});
  c.feed(w.bytes);
  auto out = c.take_output();
  ASSERT_EQ(out.size(), 12u + 16u);
  const auto expected = vnc_auth_response(challenge, "secret12");
  EXPECT_TRUE(std::equal(expected.begin(), expected.end(), out.begin() + 12));
  try {
    c.feed(Wire{}.u32(1).bytes);
    FAIL() << "expected AuthError";
  } catch (const AuthError& e) {
    EXPECT_STREQ(e.what(), "Authentication failed");
  }
}

TEST(ClientConnection_Auth, Rfb38ReasonSurfacedVerbatim) {
  ClientOptions o = raw_only();
  o.password = "pw";
  ClientConnection c(o);
  Wire w;
  text(w, "RFB 003.008\n").u8(1).u8(2);
  w.raw(std::vector<std::uint8_t>(16, 0));
  w.u32(1).u32(21);
  text(w, "Authentication failed");
  try {
    c.feed(w.bytes);
    FAIL() << "expected AuthError";
  } catch (const AuthError& e) {
    EXPECT_STREQ(e.what(), "Authentication failed");
  }
}

TEST(ClientConnection_Auth, VncAuthWithoutPasswordIsAuthError) {
  ClientConnection c(raw_only());
  Wire w;
  text(w, "RFB 003.008\n").u8(1).u8(2);
  EXPECT_THROW(c.feed(w.bytes), AuthError);
}

TEST(ClientConnection_Auth, ZeroSecurityTypesCarriesReason) {
  ClientConnection c(raw_only());
  Wire w;
  text(w, "RFB 003.008\n").u8(0).u32(8);
  text(w, "Too many");
  EXPECT_THROW(c.feed(w.bytes), AuthError);
}

TEST(ClientConnection_Malformed, NotRfbGreetingIsProtocolError) {
  ClientConnection c(raw_only());
  Wire w;
  text(w, "HTTP/1.1 400");
  EXPECT_THROW(c.feed(w.bytes), ProtocolError);
}

TEST(ClientConnection_Malformed, HugeFramebufferIsProtocolError) {
  ClientConnection c(raw_only());
  c.feed(greeting_38_none().bytes);
  EXPECT_THROW(c.feed(server_init(65535, 65535).bytes), ProtocolError);
}

TEST(ClientConnection_Malformed, RectOutsideFramebufferIsProtocolError) {
  ClientConnection c(raw_only());
  c.feed(greeting_38_none().bytes);
  c.feed(server_init(4, 4).bytes);
  Wire u;
  u.u8(0).u8(0).u16(1).u16(3).u16(3).u16(2).u16(2).u32(0);
  EXPECT_THROW(c.feed(u.bytes), ProtocolError);
}

TEST(ClientConnection_Malformed, UnrequestedEncodingIsProtocolError) {
  ClientConnection c(raw_only());
  c.feed(greeting_38_none().bytes);
  c.feed(server_init(4, 4).bytes);
  Wire u;
  u.u8(0).u8(0).u16(1).u16(0).u16(0).u16(2).u16(2).u32(static_cast<std::uint32_t>(Encoding::zrle));
  EXPECT_THROW(c.feed(u.bytes), ProtocolError);
}

TEST(ClientConnection_Malformed, UnknownMessageTypeIsProtocolError) {
  ClientConnection c(raw_only());
  c.feed(greeting_38_none().bytes);
  c.feed(server_init(4, 4).bytes);
  EXPECT_THROW(c.feed(Wire{}.u8(77).bytes), ProtocolError);
}

TEST(ClientConnection_Messages, KnownExtensionsSkippedAndBellCutTextDelivered) {
  struct Events : ClientListener {
    int bells = 0;
    std::string cut;
    void on_bell() override { ++bells; }
    void on_server_cut_text(const std::string& t) override { cut = t; }
  } events;
  ClientConnection c(raw_only(), &events);
  c.feed(greeting_38_none().bytes);
  c.feed(server_init(4, 4).bytes);
  Wire w;
  w.u8(2);                                                // Bell
  w.u8(150);                                              // EndOfContinuousUpdates
  w.u8(248).u8(0).u8(0).u8(0).u32(0).u8(2).u8(9).u8(9);   // Fence with 2 bytes
  w.u8(250).u8(0).u8(1).u8(1);                            // xvp
  w.u8(3).u8(0).u8(0).u8(0).u32(2).u8('h').u8('i');       // ServerCutText
  w.u8(1).u8(0).u16(0).u16(1).u16(0xffff).u16(0).u16(0);  // SetColourMapEntries
  c.feed(w.bytes);
  EXPECT_EQ(events.bells, 1);
  EXPECT_EQ(events.cut, "hi");
}

}  // namespace
}  // namespace vncgate::rfb
