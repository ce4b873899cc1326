// SPDX-License-Identifier: Apache-2.0
// The RFB client over WebSocket through websockify's TokenFile plugin (the stand-in for nova-novncproxy) to a
// QEMU guest, checked against QMP screendump. One guest and one proxy per process.
#include <gtest/gtest.h>

#include <memory>

#include "rfb_compare.hpp"
#include "support/qemu.hpp"
#include "support/websockify.hpp"
#include "util/error.hpp"

namespace vncgate::test {
namespace {

using namespace std::chrono_literals;
using rfb::Encoding;
using Clock = std::chrono::steady_clock;

// One guest behind one proxy for the whole binary (booted on first use, stopped at exit).
struct Peers {
  std::unique_ptr<QemuGuest> guest;
  std::unique_ptr<Websockify> proxy;
  std::string error;
};

Peers& peers() {
  static Peers p = [] {
    Peers q;
    try {
      q.guest = std::make_unique<QemuGuest>(QemuOptions{.mode = "static"});
      q.proxy =
          std::make_unique<Websockify>(Websockify::Tokens{{"tok1", "127.0.0.1:" + std::to_string(q.guest->port())}});
    } catch (const std::exception& e) {
      q.error = e.what();
    }
    return q;
  }();
  return p;
}

class QemuThroughWebsockify : public ::testing::TestWithParam<Encoding> {
 protected:
  void SetUp() override {
    if (!peers().proxy) GTEST_FAIL() << "peers did not start: " << peers().error;
  }
};

TEST_P(QemuThroughWebsockify, Framebuffer_MatchesScreendump) {
  QemuGuest& guest = *peers().guest;
  Websockify& proxy = *peers().proxy;
  rfb::BlockingClient client(io::Endpoint{.url = proxy.url("tok1")}, client_options({GetParam()}), 10s);
  client.full_update(10s);
  const std::string label = "QemuThroughWebsockify." + encodings_label({GetParam()});
  EXPECT_EQ(converge(
                client, [&] { return guest.screendump(); }, 10s, kMaskExact, label),
            "")
      << "stats " << stats_text(client) << "\nwebsockify log:\n"
      << proxy.log();
  EXPECT_GT(rects_of(client, GetParam()), 0u) << stats_text(client);
}

INSTANTIATE_TEST_SUITE_P(Encodings, QemuThroughWebsockify, ::testing::Values(Encoding::tight, Encoding::zrle),
                         [](const auto& info) { return encodings_label({info.param}); });

// Failures through the proxy need no guest: they must be I/O errors, promptly, not hangs until the timeout.
void expect_prompt_io_error(const std::string& url) {
  const auto start = Clock::now();
  try {
    rfb::BlockingClient client(io::Endpoint{.url = url}, client_options({Encoding::raw}), 8s);
    ADD_FAILURE() << "connected through " << url;
  } catch (const IoError& e) {
    ::testing::Test::RecordProperty("error", e.what());
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected IoError, got: " << e.what();
  }
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  EXPECT_LT(elapsed, 5s) << "took " << elapsed.count() << " ms";
}

// websockify drops the TCP connection during the WebSocket handshake for a token it does not know.
TEST(Websockify, UnknownToken_ThrowsIoErrorPromptly) {
  Websockify proxy(Websockify::Tokens{{"tok1", "127.0.0.1:" + std::to_string(free_port())}});
  expect_prompt_io_error(proxy.url("nosuchtoken"));
}

// A known token whose target refuses connections: the WebSocket opens, then websockify closes it (1011).
TEST(Websockify, TargetDown_ThrowsIoErrorPromptly) {
  Websockify proxy(Websockify::Tokens{{"tok1", "127.0.0.1:" + std::to_string(free_port())}});
  expect_prompt_io_error(proxy.url("tok1"));
}

}  // namespace
}  // namespace vncgate::test
