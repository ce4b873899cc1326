// SPDX-License-Identifier: Apache-2.0
// The RFB client against QEMU's VNC server (what OpenStack and Proxmox consoles are), checked pixel for pixel
// against QMP screendump. Guests are shared by the tests of one process: run the binary whole to boot three;
// under ctest each test is its own process and boots its own (~4 s with TCG on an idle machine).
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>

#include "rfb_compare.hpp"
#include "support/qemu.hpp"
#include "util/error.hpp"

namespace vncgate::test {
namespace {

using namespace std::chrono_literals;
using rfb::Encoding;
using rfb::PixelFormat;
using Clock = std::chrono::steady_clock;

// Guests shared by every suite of this binary that asks for the same kind; booted on first use, stopped at
// exit. A boot failure is reported by each test that needed the guest instead of crashing the binary.
QemuGuest& shared_guest(const std::string& kind) {
  struct Slot {
    std::unique_ptr<QemuGuest> guest;
    std::string error;
  };
  static std::map<std::string, Slot> slots;
  auto [it, fresh] = slots.try_emplace(kind);
  Slot& slot = it->second;
  if (fresh) {
    try {
      if (kind == "text") {
        slot.guest = std::make_unique<QemuGuest>(QemuOptions{.mode = "static"});
      } else if (kind == "fb1024") {
        slot.guest = std::make_unique<QemuGuest>(QemuOptions{.mode = "static", .extra_append = "vga=0x317"});
      } else if (kind == "tick") {
        // vt.global_cursor_default=0: no blinking cursor, so the only changes are the ticks.
        slot.guest =
            std::make_unique<QemuGuest>(QemuOptions{.mode = "tick", .extra_append = "vt.global_cursor_default=0"});
      } else if (kind == "password") {
        slot.guest = std::make_unique<QemuGuest>(QemuOptions{.mode = "static", .password = true});
        slot.guest->change_vnc_password("secret12");
      } else {
        throw std::logic_error("unknown guest kind " + kind);
      }
    } catch (const std::exception& e) {
      slot.guest.reset();
      slot.error = e.what();
    }
  }
  if (!slot.guest) throw std::runtime_error("QEMU guest '" + kind + "' did not start: " + slot.error);
  return *slot.guest;
}

// Fixture base: `guest()` is the shared guest of `kind`, or the test fails in SetUp.
template <typename Base>
class WithGuest : public Base {
 protected:
  explicit WithGuest(std::string kind) : kind_(std::move(kind)) {}
  void SetUp() override {
    try {
      guest_ = &shared_guest(kind_);
    } catch (const std::exception& e) {
      GTEST_FAIL() << e.what();
    }
  }
  QemuGuest& guest() { return *guest_; }

 private:
  std::string kind_;
  QemuGuest* guest_ = nullptr;
};

io::Endpoint endpoint(const QemuGuest& g) { return io::Endpoint{.url = g.vnc_url()}; }

std::string test_label() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string label = std::string(info->test_suite_name()) + "." + info->name();
  for (char& c : label)
    if (c == '/') c = '_';
  return label;
}

// Connects with `encodings`, takes a full update and converges on screendump; checks `encodings[0]` was used.
void expect_matches_screendump(QemuGuest& g, const std::vector<Encoding>& encodings,
                               std::optional<PixelFormat> format = PixelFormat::canonical(), Pixel mask = kMaskExact,
                               const std::string& password = {}) {
  rfb::BlockingClient client(endpoint(g), client_options(encodings, format, password), 10s);
  client.full_update(10s);
  PixelBuffer last;
  const std::string diff = converge(
      client, [&] { return last = g.screendump(); }, 10s, mask, test_label());
  // The oracle must show the guest's test pattern, or a match proves little.
  std::set<Pixel> colours(last.pixels().begin(), last.pixels().end());
  EXPECT_GE(colours.size(), 8u) << "screendump has only " << colours.size() << " colours";
  EXPECT_EQ(diff, "") << "encodings " << encodings_label(encodings) << "; stats " << stats_text(client);
  EXPECT_GT(rects_of(client, encodings.front()), 0u)
      << encodings_label({encodings.front()}) << " never used; stats " << stats_text(client);
}

// --- 720x400 VGA text console, every encoding QEMU has ------------------------------------------------------

class QemuTextConsole : public WithGuest<::testing::TestWithParam<Encoding>> {
 protected:
  QemuTextConsole() : WithGuest("text") {}
};

TEST_P(QemuTextConsole, Framebuffer_MatchesScreendump_WithEncoding) {
  QemuGuest& g = guest();
  ASSERT_EQ(g.screendump().width(), 720);
  expect_matches_screendump(g, {GetParam()});
}

INSTANTIATE_TEST_SUITE_P(Encodings, QemuTextConsole,
                         ::testing::Values(Encoding::raw, Encoding::hextile, Encoding::zlib, Encoding::tight,
                                           Encoding::zrle),
                         [](const auto& info) { return encodings_label({info.param}); });

// Other client pixel formats: QEMU converts to 16 and 8 bpp true colour by truncating each channel, so compare
// only the bits the format carries.
struct FormatCase {
  const char* name;
  PixelFormat format;
  Pixel mask;
  Encoding encoding;
};

class QemuTextConsoleFormats : public WithGuest<::testing::TestWithParam<FormatCase>> {
 protected:
  QemuTextConsoleFormats() : WithGuest("text") {}
};

TEST_P(QemuTextConsoleFormats, Framebuffer_MatchesScreendumpInFormatBits) {
  const FormatCase& c = GetParam();
  expect_matches_screendump(guest(), {c.encoding}, c.format, c.mask);
}

INSTANTIATE_TEST_SUITE_P(PixelFormats, QemuTextConsoleFormats,
                         ::testing::Values(FormatCase{"rgb565_zrle", PixelFormat::rgb565(), kMask565, Encoding::zrle},
                                           FormatCase{"rgb565_tight", PixelFormat::rgb565(), kMask565, Encoding::tight},
                                           FormatCase{"bgr233_hextile", PixelFormat::bgr233(), 0xe0e0c0,
                                                      Encoding::hextile},
                                           FormatCase{"bgr233_zrle", PixelFormat::bgr233(), 0xe0e0c0, Encoding::zrle}),
                         [](const auto& info) { return std::string(info.param.name); });

// --- 1024x768 framebuffer console (vga=0x317): larger screen, many more rectangles -------------------------

class QemuFramebufferConsole : public WithGuest<::testing::TestWithParam<Encoding>> {
 protected:
  QemuFramebufferConsole() : WithGuest("fb1024") {}
};

TEST_P(QemuFramebufferConsole, Framebuffer_MatchesScreendump_WithEncoding) {
  QemuGuest& g = guest();
  const PixelBuffer dump = g.screendump();
  ASSERT_EQ(dump.width(), 1024);
  ASSERT_EQ(dump.height(), 768);
  expect_matches_screendump(g, {GetParam()});
}

INSTANTIATE_TEST_SUITE_P(Encodings, QemuFramebufferConsole,
                         ::testing::Values(Encoding::tight, Encoding::zrle, Encoding::hextile),
                         [](const auto& info) { return encodings_label({info.param}); });

// --- a changing screen: one tick line a second, scrolling once the screen is full -----------------------------
// Many incremental updates through one connection keep the zlib streams (Zlib, Tight's four, ZRLE's) going.

class QemuTicking : public WithGuest<::testing::TestWithParam<Encoding>> {
 protected:
  QemuTicking() : WithGuest("tick") {}
};

TEST_P(QemuTicking, IncrementalUpdates_FollowTheScreen) {
  QemuGuest& g = guest();
  rfb::BlockingClient client(endpoint(g), client_options({GetParam()}), 10s);
  client.full_update(10s);
  int updates = 0;
  for (const auto until = Clock::now() + 3500ms; Clock::now() < until;)
    if (client.next_update(500ms)) ++updates;
  EXPECT_GE(updates, 3) << "the guest ticks every second";
  // The screen changes every second: converge catches a moment when client and oracle agree.
  EXPECT_EQ(converge(
                client, [&] { return g.screendump(); }, 10s, kMaskExact, test_label()),
            "")
      << "after " << updates << " updates; stats " << stats_text(client);
  EXPECT_GT(rects_of(client, GetParam()), 0u) << stats_text(client);
}

INSTANTIATE_TEST_SUITE_P(Encodings, QemuTicking, ::testing::Values(Encoding::zlib, Encoding::tight, Encoding::zrle),
                         [](const auto& info) { return encodings_label({info.param}); });

// --- VNC Authentication --------------------------------------------------------------------------------------

class QemuPassword : public WithGuest<::testing::Test> {
 protected:
  QemuPassword() : WithGuest("password") {}
};

TEST_F(QemuPassword, CorrectPassword_MatchesScreendump) {
  expect_matches_screendump(guest(), {Encoding::tight}, PixelFormat::canonical(), kMaskExact, "secret12");
}

TEST_F(QemuPassword, WrongPassword_ThrowsAuthErrorWithServerReason_AndServerKeepsServing) {
  QemuGuest& g = guest();
  const auto start = Clock::now();
  try {
    rfb::BlockingClient client(endpoint(g), client_options({Encoding::tight}, PixelFormat::canonical(), "wrong123"),
                               10s);
    ADD_FAILURE() << "login with a wrong password succeeded";
  } catch (const AuthError& e) {
    EXPECT_NE(std::string(e.what()).find("Authentication failed"), std::string::npos) << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected AuthError, got: " << e.what();
  }
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  EXPECT_LT(elapsed, 3s) << "refusal took " << elapsed.count() << " ms";
  EXPECT_THROW(rfb::BlockingClient(endpoint(g), client_options({Encoding::raw}), 10s), AuthError)
      << "no password at all must be refused too";
  // The server is unharmed and the right password still works.
  expect_matches_screendump(g, {Encoding::zrle}, PixelFormat::canonical(), kMaskExact, "secret12");
}

}  // namespace
}  // namespace vncgate::test
