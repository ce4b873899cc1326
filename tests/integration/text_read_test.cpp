// SPDX-License-Identifier: Apache-2.0
// Reading consoles as text (src/text) from the pixels of real servers: QEMU's VGA text mode and the Linux
// framebuffer console (QMP screendump) in several console fonts, xterm with X misc-fixed fonts on Xvnc
// (xwd -root). The oracle is what the guest printed: scripts/lib/colour-screen.sh run here through sh with its
// escape sequences removed, or the keys the test typed. One wrong character fails.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <regex>
#include <thread>

#include "framebuffer/difference.hpp"
#include "support/image.hpp"
#include "support/qemu.hpp"
#include "support/xvnc.hpp"
#include "text/text_screen.hpp"
#include "text/utf8.hpp"

namespace vncgate::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// The colour test screen as text: the script's output without its escape sequences, one entry a line,
// trailing spaces dropped.
std::vector<std::string> colour_screen_lines() {
  FILE* p = ::popen("sh '" VNCGATE_COLOUR_SCREEN_SCRIPT "'", "r");
  if (!p) throw std::runtime_error("cannot run the colour screen script");
  std::string out;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  ::pclose(p);
  out = std::regex_replace(out, std::regex("\x1b\\[[0-9;?]*[A-Za-z]"), "");
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t nl; (nl = out.find('\n', start)) != std::string::npos; start = nl + 1)
    lines.push_back(out.substr(start, nl - start));
  if (start < out.size()) lines.push_back(out.substr(start));
  for (auto& l : lines) l.erase(l.find_last_not_of(' ') + 1);
  return lines;
}

// Row `row`, columns [first, first + count), as UTF-8 without trailing spaces.
std::string cells(const text::TextScreen& s, int row, int first, int count) {
  std::string out;
  auto chars = s.row(row).substr(first, count);
  while (!chars.empty() && chars.back() == U' ') chars.remove_suffix(1);
  for (char32_t c : chars) text::append_utf8(out, c);
  return out;
}

// Every row of the first `columns` columns equals `expected` (then blank rows to the grid's end).
void expect_screen(const text::TextScreen& s, const std::vector<std::string>& expected, int columns, int rows) {
  ASSERT_TRUE(s.grid());
  ASSERT_GE(s.rows(), rows);
  for (int r = 0; r < rows; ++r)
    EXPECT_EQ(cells(s, r, 0, columns), r < static_cast<int>(expected.size()) ? expected[r] : "") << "row " << r;
}

void expect_colour_screen(const PixelBuffer& fb, int cell_width, int cell_height) {
  text::TextScreen s;
  s.update(fb);
  ASSERT_TRUE(s.grid()) << "no grid found";
  EXPECT_EQ(s.grid()->cell_width(), cell_width);
  EXPECT_EQ(s.grid()->cell_height(), cell_height);
  EXPECT_TRUE(s.is_text());
  EXPECT_EQ(s.unreadable_cells(), 0);
  expect_screen(s, colour_screen_lines(), s.columns(), s.rows());
}

TEST(TextQemu, VgaTextMode_ReadsEveryCellExactly) {
  QemuGuest guest(QemuOptions{.mode = "static"});
  const PixelBuffer fb = guest.screendump();
  ASSERT_EQ(fb.width(), 720);  // 80x25 cells of 9x16: the ninth-column rule applies
  expect_colour_screen(fb, 9, 16);
}

// fbcon at 1024x768: the kernel's built-in VGA font, then Debian console fonts loaded with loadfont (FONT=).
struct FbconCase {
  const char* font;
  int cell_height;
};
class TextFbcon : public ::testing::TestWithParam<FbconCase> {};

TEST_P(TextFbcon, ReadsEveryCellExactly) {
  std::string append = "vga=0x317";
  if (*GetParam().font) append += std::string(" FONT=") + GetParam().font;
  QemuGuest guest(QemuOptions{.mode = "static", .extra_append = append});
  const PixelBuffer fb = guest.screendump();
  ASSERT_EQ(fb.width(), 1024);
  expect_colour_screen(fb, 8, GetParam().cell_height);
}

INSTANTIATE_TEST_SUITE_P(Fonts, TextFbcon,
                         ::testing::Values(FbconCase{"", 16}, FbconCase{"Lat15-Terminus16", 16},
                                           FbconCase{"Lat15-Terminus14", 14}),
                         [](const auto& info) {
                           std::string n = *info.param.font ? info.param.font : "kernel_default";
                           for (auto& c : n) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return n;
                         });

TEST(TextQemu, TypedShellSession_ReadsIncrementallyAsTyped) {
  QemuGuest guest(QemuOptions{.mode = "shell", .extra_append = "vga=0x317"});
  guest.type("nocursor\n");
  std::this_thread::sleep_for(1s);
  PixelBuffer before = guest.screendump();
  text::TextScreen screen;
  screen.update(before);
  ASSERT_TRUE(screen.is_text());
  const int searches = screen.grid_searches();

  guest.type("echo hello vncgate 42\n");
  std::string text;
  PixelBuffer after;
  for (auto deadline = Clock::now() + 20s; Clock::now() < deadline;) {
    after = guest.screendump();
    text::TextScreen probe;
    probe.update(after);
    text = probe.text();
    if (text.find("\nhello vncgate 42\n# \n") != std::string::npos || text.ends_with("\nhello vncgate 42\n#\n")) break;
    std::this_thread::sleep_for(200ms);
  }
  const auto changed = screen.update(after, framebuffer::difference(before, after));
  EXPECT_FALSE(changed.empty());
  EXPECT_EQ(screen.grid_searches(), searches) << "an incremental update searched the grid again";
  text::TextScreen fresh;
  fresh.update(after);
  EXPECT_EQ(screen.text(), fresh.text()) << "incremental and whole-screen readings differ";
  EXPECT_NE(screen.text().find("# nocursor\n# echo hello vncgate 42\nhello vncgate 42\n#"), std::string::npos)
      << screen.text();
  EXPECT_EQ(screen.text().find("\xef\xbf\xbd"), std::string::npos) << "an unreadable cell:\n" << screen.text();
}

// xterm with a misc-fixed font (no anti-aliasing) showing the colour screen at the top left of the root.
class TextXterm : public ::testing::TestWithParam<const char*> {};

PixelBuffer settled_root(XvncServer& x, Process& client) {
  PixelBuffer previous;
  for (auto deadline = Clock::now() + 20s; Clock::now() < deadline && client.running();) {
    std::this_thread::sleep_for(500ms);
    PixelBuffer now = x.xwd_root();
    if (previous.width() == now.width() && diff_summary(previous, now).empty()) return now;
    previous = std::move(now);
  }
  throw std::runtime_error("the xterm did not settle: " + client.log_tail());
}

TEST_P(TextXterm, MiscFixed_ReadsEveryCellExactly) {
  XvncServer x;
  x.hide_pointer();
  Process xterm = x.run_client({"xterm", "-fn", GetParam(), "-geometry", "80x24+0+0", "-e", "sh", "-c",
                                "sh '" VNCGATE_COLOUR_SCREEN_SCRIPT "'; exec sleep 100000"},
                               "xterm.log");
  const PixelBuffer fb = settled_root(x, xterm);
  text::TextScreen s;
  s.update(fb);
  ASSERT_TRUE(s.grid());
  EXPECT_EQ(std::to_string(s.grid()->cell_width()) + "x" + std::to_string(s.grid()->cell_height()),
            std::string(GetParam()).substr(0, std::string(GetParam()).find_first_not_of("0123456789x")));
  EXPECT_TRUE(s.is_text());
  // The xterm's 80x24 cells; beyond them its window frame reads as whatever line glyph it resembles.
  expect_screen(s, colour_screen_lines(), 80, 24);
}

INSTANTIATE_TEST_SUITE_P(Fonts, TextXterm, ::testing::Values("6x13", "9x15", "10x20"),
                         [](const auto& info) { return std::string("fixed_") + info.param; });

TEST(TextXvnc, AntiAliasedXterm_IsNotText) {
  XvncServer x;
  Process xterm = start_colour_xterm(x);  // -fa Monospace: anti-aliased TrueType
  text::TextScreen s;
  s.update(x.xwd_root());
  EXPECT_FALSE(s.is_text()) << s.text();
  EXPECT_EQ(s.text().find("quick"), std::string::npos) << "misread:\n" << s.text();
}

}  // namespace
}  // namespace vncgate::test
