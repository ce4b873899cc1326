// SPDX-License-Identifier: Apache-2.0
// Checks the integration harness itself (tests/support): that the peers start, that the oracles return
// plausible images, and that image comparison reports what differs. No RFB client involved.
#include <gtest/gtest.h>

#include <set>

#include "support/image.hpp"
#include "support/process.hpp"
#include "support/qemu.hpp"
#include "support/websockify.hpp"
#include "support/xvnc.hpp"

namespace vncgate::test {
namespace {

using namespace std::chrono_literals;

std::size_t distinct_colours(const PixelBuffer& image) {
  std::set<Pixel> colours(image.pixels().begin(), image.pixels().end());
  return colours.size();
}

TEST(Image, PpmRoundTrip_PreservesPixels) {
  TempDir dir;
  PixelBuffer a(7, 5);
  for (int y = 0; y < 5; ++y)
    for (int x = 0; x < 7; ++x) a.row(y)[x] = framebuffer::make_pixel(x * 30, y * 50, (x * y) & 0xff);
  save_ppm(a, dir.file("a.ppm"));
  const PixelBuffer b = load_ppm(dir.file("a.ppm"));
  EXPECT_EQ(diff_summary(a, b), "");
}

TEST(Image, LoadPng_MatchesThePpmImageMagickConvertedFrom) {
  TempDir dir;
  PixelBuffer a(33, 17);
  for (int y = 0; y < 17; ++y)
    for (int x = 0; x < 33; ++x) a.row(y)[x] = framebuffer::make_pixel(x * 7, 255 - y * 13, (x ^ y) * 5);
  save_ppm(a, dir.file("a.ppm"));
  ASSERT_EQ(run_command({"/usr/bin/convert", "ppm:" + dir.file("a.ppm"), "png:" + dir.file("a.png")},
                        dir.file("convert.log")),
            0)
      << read_file(dir.file("convert.log"));
  EXPECT_EQ(diff_summary(a, load_png(dir.file("a.png"))), "");
}

TEST(Image, DiffSummary_ReportsFirstDifferenceAndMaskedEquality) {
  PixelBuffer a(4, 3), b(4, 3);
  b.row(2)[1] = 0x010203;
  b.row(2)[3] = 0x000004;
  const std::string d = diff_summary(a, b);
  EXPECT_NE(d.find("2 pixel(s) differ"), std::string::npos) << d;
  EXPECT_NE(d.find("first at (1,2): expected 000000 actual 010203"), std::string::npos) << d;
  EXPECT_EQ(diff_summary(a, b, kMask565), "");
  EXPECT_NE(diff_summary(a, PixelBuffer(4, 4)).find("size differs"), std::string::npos);
}

TEST(Process, Stop_TerminatesAndReapsTheChild) {
  TempDir dir;
  Process p({"sleep", "100"}, dir.file("sleep.log"));
  EXPECT_TRUE(p.running());
  p.stop(500ms);
  EXPECT_FALSE(p.running());
  EXPECT_EQ(run_command({"sh", "-c", "exit 3"}, dir.file("sh.log")), 3);
}

TEST(QemuGuest, StaticMode_ScreendumpIsAColourfulTextScreen) {
  QemuGuest guest({.mode = "static"});
  const PixelBuffer a = guest.screendump();
  EXPECT_EQ(a.width(), 720);
  EXPECT_EQ(a.height(), 400);
  EXPECT_GE(distinct_colours(a), 8u);
  // Static means static: a second dump a moment later is identical.
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(diff_summary(a, guest.screendump()), "");
  EXPECT_NE(guest.query_vnc().find("\"auth\": \"none\""), std::string::npos) << guest.query_vnc();
}

TEST(XvncServer, Depth24_XwdRootHasTheGeometry) {
  XvncServer x({.width = 640, .height = 480, .depth = 24});
  const PixelBuffer root = x.xwd_root();
  EXPECT_EQ(root.width(), 640);
  EXPECT_EQ(root.height(), 480);
  EXPECT_TRUE(wait_for_port(x.port(), 1s));
}

TEST(XvncServer, Xrandr_ChangesTheRootGeometry) {
  XvncServer x({.width = 1024, .height = 768, .depth = 24});
  ASSERT_EQ(x.xrandr({"--output", "VNC-0", "--mode", "800x600"}), 0) << read_file(x.work_dir() + "/xrandr.log");
  const PixelBuffer root = x.xwd_root();
  EXPECT_EQ(root.width(), 800);
  EXPECT_EQ(root.height(), 600);
}

TEST(XvncServer, Depth16WithPassword_Starts) {
  XvncServer x({.width = 320, .height = 200, .depth = 16, .password = "secret12"});
  EXPECT_EQ(x.xwd_root().width(), 320);
}

TEST(Websockify, TokenFile_Listens) {
  Websockify ws(Websockify::Tokens{{"tok1", "127.0.0.1:1"}});
  EXPECT_TRUE(wait_for_port(ws.port(), 1s));
  EXPECT_NE(ws.url("tok1").find("?token=tok1"), std::string::npos);
}

}  // namespace
}  // namespace vncgate::test
