// SPDX-License-Identifier: Apache-2.0
// The RFB client against TigerVNC's Xvnc (CopyRect, RRE, 16-bit depth), checked pixel for pixel against
// `xwd -root`. The client connects first, then an xterm scrolls ~2400 lines (jump scroll: CopyRect plus new
// text) and goes still; the client follows with incremental updates until nothing more comes, then must equal
// the X server's root window (also when it hibernated after every update). One Xvnc per suite, one xterm per
// test.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <memory>

#include "rfb_compare.hpp"
#include "support/heap.hpp"
#include "support/process.hpp"
#include "support/xvnc.hpp"
#include "util/error.hpp"

namespace vncgate::test {
namespace {

using namespace std::chrono_literals;
using rfb::Encoding;
using rfb::PixelFormat;

const std::vector<std::string> kScrollingXterm{
    "xterm", "-fa", "Monospace", "-fs", "10", "-geometry", "120x45+0+0", "-e", "sh", "-c",
    // A few lines every 20 ms for ~3 s: a fast burst can reach the client as one changed region with no
    // CopyRect at all, a steady scroll always yields copies.
    "for i in $(seq 1 120); do ls -l /usr/bin | head -5; sleep 0.02; done; sleep 100000"};

struct SharedXvnc {
  std::unique_ptr<XvncServer> server;
  std::string error;

  void start(XvncOptions options) {
    try {
      server = std::make_unique<XvncServer>(std::move(options));
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
};

// A test suite's own Xvnc of W x H at `Depth`, started once for the suite; a test fails at once when it
// could not start.
template <class Param, int W, int H, int Depth>
class XvncSuite : public ::testing::TestWithParam<Param> {
 protected:
  static void SetUpTestSuite() { shared_.start({.width = W, .height = H, .depth = Depth}); }
  static void TearDownTestSuite() { shared_.server.reset(); }
  void SetUp() override {
    if (!shared_.server) GTEST_FAIL() << "Xvnc did not start: " << shared_.error;
  }
  static inline SharedXvnc shared_;
};

std::string test_label() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string label = std::string(info->test_suite_name()) + "." + info->name();
  for (char& c : label)
    if (c == '/') c = '_';
  return label;
}

struct ScrollResult {
  int updates = 0;
  std::string diff;
};

// Connects, starts the scrolling xterm, follows it until still and compares with the root window.
ScrollResult scroll_and_compare(XvncServer& x, rfb::BlockingClient& client, Pixel mask) {
  ScrollResult r;
  client.full_update(10s);
  // TigerVNC draws the pointer into the framebuffer of a client whose last PointerEvent is not where the
  // pointer is (VNCSConnectionST::needRenderedCursor), Cursor pseudo-encoding or not; xwd never shows it. Put
  // the pointer somewhere ourselves so the server leaves it to our (unused) local cursor.
  const auto& init = client.connection().server_init();
  client.connection().send_pointer(init.width - 1, init.height - 1, 0);
  Process xterm = x.run_client(kScrollingXterm, "xterm.log");
  // Let xterm map its window and start printing before "no update for a second" can mean "still".
  for (int i = 0; i < 30 && r.updates == 0; ++i)
    if (client.next_update(100ms)) ++r.updates;
  EXPECT_TRUE(xterm.running()) << "xterm exited early: " << xterm.log_tail();
  EXPECT_TRUE(wait_until_still(client, 1500ms, 60s, &r.updates)) << "screen never went still";
  r.diff = converge(
      client, [&] { return x.xwd_root(); }, 5s, mask, test_label());
  xterm.stop(1000ms);
  return r;
}

// --- depth 24, canonical format -----------------------------------------------------------------------------

using XvncDepth24 = XvncSuite<std::vector<Encoding>, 1024, 768, 24>;

TEST_P(XvncDepth24, ScrollingXterm_FramebufferMatchesXwd) {
  XvncServer& x = *shared_.server;
  const auto& encodings = GetParam();
  rfb::BlockingClient client(io::Endpoint{.url = x.vnc_url()}, client_options(encodings), 10s);
  ASSERT_EQ(client.connection().server_init().width, 1024);
  const ScrollResult r = scroll_and_compare(x, client, kMaskExact);
  EXPECT_EQ(r.diff, "") << "after " << r.updates << " updates; stats " << stats_text(client);
  EXPECT_GT(r.updates, 1);

  const Encoding main = encodings.back();  // copyrect (if any) is first, the real encoding last
  EXPECT_GT(rects_of(client, main), 0u) << encodings_label({main}) << " never used; stats " << stats_text(client);
  if (encodings.front() == Encoding::copy_rect)
    EXPECT_GT(rects_of(client, Encoding::copy_rect), 0u) << "no CopyRect while scrolling; " << stats_text(client);
  else
    EXPECT_EQ(rects_of(client, Encoding::copy_rect), 0u) << "CopyRect sent though not asked for";
}

INSTANTIATE_TEST_SUITE_P(Encodings, XvncDepth24,
                         ::testing::Values(std::vector<Encoding>{Encoding::raw}, std::vector<Encoding>{Encoding::rre},
                                           std::vector<Encoding>{Encoding::hextile},
                                           std::vector<Encoding>{Encoding::tight},
                                           std::vector<Encoding>{Encoding::zrle},
                                           std::vector<Encoding>{Encoding::copy_rect, Encoding::raw},
                                           std::vector<Encoding>{Encoding::copy_rect, Encoding::hextile},
                                           std::vector<Encoding>{Encoding::copy_rect, Encoding::tight},
                                           std::vector<Encoding>{Encoding::copy_rect, Encoding::zrle}),
                         [](const auto& info) { return encodings_label(info.param); });

// Through `vncgate proxy`: Xvnc reports each scroll of the xterm as several CopyRects around the cursor and the
// scrollbar, and the gateway passes them on as copies (composed when several come before the viewer asks).
// Sent as pixels instead, every update re-encoded most of the terminal (~40 % of the screen).
class XvncGateway : public XvncDepth24 {};  // TEST_F beside the TEST_P suite

TEST_F(XvncGateway, ScrollsGoAsCopies_FramebufferMatchesXwd) {
  XvncServer& x = *shared_.server;
  const int port = free_port();
  TempDir dir("vncgate-xvnc-gateway");
  Process proxy({VNCGATE_BINARY, "proxy", "--listen", "127.0.0.1:" + std::to_string(port), "--target", x.vnc_url()},
                dir.file("proxy.log"));
  ASSERT_TRUE(wait_for_port(port, 20s)) << read_file(dir.file("proxy.log"));
  rfb::BlockingClient client(io::Endpoint{.url = "vnc://127.0.0.1:" + std::to_string(port)},
                             client_options({Encoding::copy_rect, Encoding::tight}), 10s);
  const ScrollResult r = scroll_and_compare(x, client, kMaskExact);
  EXPECT_EQ(r.diff, "") << "after " << r.updates << " updates; stats " << stats_text(client);
  const auto& stats = client.connection().stats();
  const auto copies = stats.find(static_cast<std::int32_t>(Encoding::copy_rect));
  const auto tight = stats.find(static_cast<std::int32_t>(Encoding::tight));
  ASSERT_NE(copies, stats.end()) << "no CopyRect through the gateway; " << stats_text(client);
  ASSERT_NE(tight, stats.end());
  const double screen = 1024.0 * 768.0;
  const double pixels_per_update = static_cast<double>(tight->second.pixels) / std::max(1, r.updates);
  std::printf(
      "[ measure  ] through the gateway: %d updates, %llu CopyRects, %.1f %% of the screen as pixels per "
      "update; %s\n",
      r.updates, static_cast<unsigned long long>(copies->second.rects), 100.0 * pixels_per_update / screen,
      stats_text(client).c_str());
  EXPECT_GT(copies->second.rects, static_cast<std::uint64_t>(r.updates)) << "one scroll arrives as several copies";
  EXPECT_LT(pixels_per_update, screen / 10) << stats_text(client);

  // libvncclient decodes the gateway's lossless Tight of the same screen exactly: anti-aliased text goes as
  // full-colour zlib pieces and small palettes (TightEncoder's palette rule).
  const auto ppm = dir.file("libvnc.ppm");
  ASSERT_EQ(run_command({VNCGATE_LIBVNCCLIENT_SNAPSHOT, "127.0.0.1:" + std::to_string(port), ppm, "20",
                         "copyrect tight", "lossless"},
                        dir.file("libvnc.log"), 30s),
            0)
      << read_file(dir.file("libvnc.log"));
  EXPECT_EQ(diff_summary(x.xwd_root(), load_ppm(ppm)), "") << "libvncclient through the gateway vs xwd -root";
}

// --- depth 16, the server's native 16 bpp format decoded by us ---------------------------------------------
// Xvnc refuses -depth 8 ("Couldn't add screen", TigerVNC 1.12), so 8 bpp is covered against QEMU instead.

using XvncDepth16 = XvncSuite<Encoding, 1024, 768, 16>;

TEST_P(XvncDepth16, NativeFormat_ScrollingXterm_MatchesXwdIn565Bits) {
  XvncServer& x = *shared_.server;
  rfb::BlockingClient client(io::Endpoint{.url = x.vnc_url()},
                             client_options({Encoding::copy_rect, GetParam()}, std::nullopt), 10s);
  const PixelFormat& native = client.connection().server_init().format;
  ASSERT_EQ(native.bits_per_pixel, 16) << native.describe();
  const ScrollResult r = scroll_and_compare(x, client, kMask565);
  EXPECT_EQ(r.diff, "") << "after " << r.updates << " updates; format " << native.describe() << "; stats "
                        << stats_text(client);
  EXPECT_GT(rects_of(client, GetParam()), 0u) << stats_text(client);
}

INSTANTIATE_TEST_SUITE_P(Encodings, XvncDepth16,
                         ::testing::Values(Encoding::raw, Encoding::rre, Encoding::hextile, Encoding::tight,
                                           Encoding::zrle),
                         [](const auto& info) { return encodings_label({info.param}); });

// --- hibernation between updates (issue 7's idle sessions): 640x480, as a gateway session sees it -----------
// After every update the connection hibernates: its picture is compacted and its zlib streams are reduced to
// deflated dictionaries, so each next Tight/ZRLE rectangle resumes them as raw inflate. Any slip in that
// shows up as corrupt data (ProtocolError) or wrong pixels.

using XvncHibernate = XvncSuite<std::vector<Encoding>, 640, 480, 24>;

TEST_P(XvncHibernate, ScrollingXterm_HibernatingAfterEveryUpdate_MatchesXwd) {
  XvncServer& x = *shared_.server;
  rfb::BlockingClient client(io::Endpoint{.url = x.vnc_url()}, client_options(GetParam()), 10s);
  rfb::ClientConnection& conn = client.connection();
  client.full_update(10s);
  conn.send_pointer(639, 479, 0);  // see scroll_and_compare: keeps the server from drawing the pointer
  Process xterm = x.run_client(kScrollingXterm, "xterm.log");
  int updates = 0;
  conn.hibernate();
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline && client.next_update(updates == 0 ? 3000ms : 1500ms)) {
    ++updates;
    conn.hibernate();
  }
  EXPECT_TRUE(xterm.running()) << "xterm exited early: " << xterm.log_tail();
  EXPECT_GT(updates, 1);
  EXPECT_TRUE(conn.hibernating());
  conn.wake();
  EXPECT_EQ(converge(
                client, [&] { return x.xwd_root(); }, 5s, kMaskExact, test_label()),
            "")
      << "after " << updates << " updates; stats " << stats_text(client);
  EXPECT_GT(rects_of(client, GetParam().back()), 0u) << stats_text(client);
  xterm.stop(1000ms);
}

// What one idle upstream connection costs once hibernated: all the BlockingClient allocated (io_context,
// socket, AsyncClient's read buffer, ClientConnection with its decoders) for an xterm full of text that went
// still, in the default encodings (Tight first).
class XvncIdleSession : public XvncHibernate {};

TEST_F(XvncIdleSession, HibernatedConnectionHoldsTensOfKiB) {
  if (!heap_statistics_work()) GTEST_SKIP() << "mallinfo2 does not see this build's allocator (sanitizers)";
  XvncServer& x = *shared_.server;
  Process xterm = x.run_client({"xterm", "-fa", "Monospace", "-fs", "10", "-geometry", "100x40+0+0", "-e", "sh", "-c",
                                "ls -l /usr/bin | head -60; sleep 100000"},
                               "xterm-idle.log");
  const std::size_t base = heap_in_use();
  auto client = std::make_unique<rfb::BlockingClient>(io::Endpoint{.url = x.vnc_url()}, rfb::ClientOptions{}, 10s);
  client->full_update(10s);
  client->connection().send_pointer(639, 479, 0);  // see scroll_and_compare
  int updates = 0;
  EXPECT_TRUE(wait_until_still(*client, 1500ms, 30s, &updates));
  const std::size_t awake = heap_in_use() - base;
  client->connection().hibernate();
  const std::size_t asleep = heap_in_use() - base;
  std::printf("[ measure  ] Xvnc 640x480 upstream: awake %zu B, hibernating %zu B (picture, buffers %zu B); %s\n",
              awake, asleep, client->connection().buffer_bytes(), stats_text(*client).c_str());
  EXPECT_LT(asleep, 96u * 1024);
  client->connection().wake();
  EXPECT_EQ(converge(
                *client, [&] { return x.xwd_root(); }, 5s, kMaskExact, "XvncIdleSession"),
            "");
  xterm.stop(1000ms);
}

INSTANTIATE_TEST_SUITE_P(Encodings, XvncHibernate,
                         ::testing::Values(std::vector<Encoding>{Encoding::tight},
                                           std::vector<Encoding>{Encoding::zrle},
                                           std::vector<Encoding>{Encoding::copy_rect, Encoding::tight}),
                         [](const auto& info) { return encodings_label(info.param); });

// --- VNC Authentication against TigerVNC ---------------------------------------------------------------------

TEST(XvncPassword, RightAndWrongPassword) {
  XvncServer x({.width = 320, .height = 200, .depth = 24, .password = "secret12"});
  const io::Endpoint ep{.url = x.vnc_url()};
  EXPECT_THROW(rfb::BlockingClient(ep, client_options({Encoding::zrle}, PixelFormat::canonical(), "nope"), 10s),
               AuthError);
  rfb::BlockingClient client(ep, client_options({Encoding::zrle}, PixelFormat::canonical(), "secret12"), 10s);
  client.full_update(10s);
  EXPECT_EQ(converge(
                client, [&] { return x.xwd_root(); }, 5s, kMaskExact, "XvncPassword"),
            "");
}

}  // namespace
}  // namespace vncgate::test
