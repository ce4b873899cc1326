// SPDX-License-Identifier: Apache-2.0
// Typing into live consoles through `vncgate serve` and the bundled noVNC in Chromium (console_check.mjs), the
// way a user works: several commands, output scrolling the screen, ANSI colours, a blinking cursor, and on the
// text-mode guest a change of screen size in the middle of the session. Afterwards the page must still be
// connected, the browser console free of errors, and the canvas equal to the server's own framebuffer (QMP
// screendump for QEMU, xwd -root for Xvnc). On a 1024x768 framebuffer console noVNC 1.3 used to fail here with
// "Error decoding rect: Error: zlib inflate failed" (its inflater lost its window at each stream reset).
#include <gtest/gtest.h>

#include <thread>

#include "service_fixture.hpp"
#include "support/browser.hpp"
#include "support/image.hpp"
#include "support/qemu.hpp"
#include "support/xvnc.hpp"

namespace vncgate::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

class WebTypingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    fbcon_ = new QemuGuest(QemuOptions{.mode = "shell", .extra_append = "vga=0x317"});
    text_ = new QemuGuest(QemuOptions{.mode = "shell", .extra_append = "video=800x600"});
    xvnc_ = new XvncServer(XvncOptions{.width = 800, .height = 600});
    xterm_ = new Process(
        xvnc_->run_client({"xterm", "-geometry", "96x36+0+0", "-fn", "fixed", "-e", "/bin/sh"}, "xterm.log"));
    dir_ = new TempDir("vncgate-web-typing");
    serve_ = new ServeProcess(ServeOptions{
        .data_dir = dir_->path(),
        .targets = {"fbcon=" + fbcon_->vnc_url(), "text=" + text_->vnc_url(), "xterm=" + xvnc_->vnc_url()}});
    serve_->start();
  }
  static void TearDownTestSuite() {
    delete serve_;
    delete dir_;
    delete xterm_;
    delete xvnc_;
    delete text_;
    delete fbcon_;
  }

  // Opens a console link to `target`, types `keys` and returns the canvas afterwards.
  static PixelBuffer type_into(const std::string& target, const std::string& keys, bool park_pointer = false) {
    const auto created = serve_->json("POST", "/api/v1/sessions", json{{"target", target}}.dump(), 201);
    const std::string after = dir_->file(target + "-after.png");
    std::vector<std::string> args{"--url",      serve_->url(created.at("url")),
                                  "--blinking", "--type",
                                  keys,         "--out-after",
                                  after,        "--settle-ms",
                                  "2000",       "--timeout-ms",
                                  "90000"};
    if (park_pointer) args.push_back("--park-pointer");
    const auto r = run_browser_check("console_check.mjs", args, dir_->path(), 150s);
    const auto report = json::parse(r.report.empty() ? "{}" : r.report, nullptr, false);
    EXPECT_EQ(r.exit_code, kBrowserOk) << r.log << "\n" << serve_->log_tail();
    EXPECT_EQ(report.value("state", ""), "connected") << r.report;
    EXPECT_EQ(report.value("page_errors", json::array()), json::array()) << "errors in the browser console";
    EXPECT_TRUE(report.value("changed_after_type", false)) << r.report;
    return r.exit_code == kBrowserOk ? load_png(after) : PixelBuffer{};
  }

  // The page's final picture against the server's, asked a few times: a guest under TCG may still be drawing.
  template <typename Oracle>
  static std::string settled_diff(const PixelBuffer& page, Oracle&& oracle, const framebuffer::Rect& ignore = {}) {
    std::string diff = "no picture";
    for (int i = 0; i < 20 && !page.pixels().empty(); ++i, std::this_thread::sleep_for(250ms)) {
      PixelBuffer expected = oracle(), actual = page;
      if (!ignore.empty() && expected.bounds() == actual.bounds()) {
        expected.fill(ignore.intersect(expected.bounds()), 0);
        actual.fill(ignore.intersect(actual.bounds()), 0);
      }
      if ((diff = diff_summary(expected, actual)).empty()) break;
    }
    return diff;
  }

  static inline QemuGuest* fbcon_ = nullptr;
  static inline QemuGuest* text_ = nullptr;
  static inline XvncServer* xvnc_ = nullptr;
  static inline Process* xterm_ = nullptr;
  static inline TempDir* dir_ = nullptr;
  static inline ServeProcess* serve_ = nullptr;
};

TEST_F(WebTypingTest, FramebufferConsoleKeepsWorkingThroughTypingScrollingAndColours) {
  const auto page = type_into("fbcon",
                              "echo hello from the gateway\\n"
                              "ls -l /bin | head -45\\n"
                              "colours\\n"
                              "echo typed; echo through; echo noVNC\\n"
                              "colours; ls /bin | head -12\\n"
                              "nocursor\\n");
  ASSERT_EQ(page.width(), 1024);
  EXPECT_EQ(settled_diff(page, [] { return fbcon_->screendump(); }), "") << "canvas vs QMP screendump (fbcon)";
}

TEST_F(WebTypingTest, TextModeConsoleFollowsAResizeWhileTyping) {
  const auto page = type_into("text",
                              "echo before the resize\\n"
                              "drm-on\\n"
                              "echo after the resize; colours\\n"
                              "ls -l /bin | head -30\\n"
                              "nocursor\\n");
  EXPECT_EQ(page.width(), 800) << "the console changed from 720x400 text mode to an 800x600 framebuffer";
  EXPECT_EQ(settled_diff(page, [] { return text_->screendump(); }), "") << "canvas vs QMP screendump (text mode)";
}

TEST_F(WebTypingTest, XtermOnXvncKeepsWorkingThroughTypingAndColours) {
  const auto page = type_into("xterm",
                              "echo hello from the gateway\\n"
                              "ls -l --color=always /usr/lib | head -40\\n"
                              "tput setaf 1; echo red; tput setaf 2; tput bold; echo bold green; tput sgr0\\n"
                              "ls --color=always /etc | head -20\\n",
                              true);
  ASSERT_EQ(page.width(), 800);
  // Xvnc draws the pointer into the picture it serves (the gateway asks for no cursor shapes); xwd does not.
  EXPECT_EQ(settled_diff(page, [] { return xvnc_->xwd_root(); }, {800 - 40, 600 - 40, 40, 40}), "")
      << "canvas vs xwd -root";
}

}  // namespace
}  // namespace vncgate::test
