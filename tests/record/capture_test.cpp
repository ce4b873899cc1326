// SPDX-License-Identifier: Apache-2.0
// record::Capture's first connection over loopback: fail at once, wait out the connect grace for a console that
// is still coming up, or (resumed after a restart) retry like a lost upstream. The console is test::RfbUpstream
// (our own rfb::ServerConnection, a real RFB peer) started late on a fixed port; "not there" is a real refused
// connection.
#include "record/capture.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <optional>
#include <thread>

#include "support/process.hpp"
#include "support/rfb_upstream.hpp"
#include "util/error.hpp"

namespace vncgate::record {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct Outcome {
  bool frame = false;  // a complete screen reached the slot
  std::exception_ptr failure;
  Clock::duration after{};  // since start()

  std::string message() const {
    try {
      if (failure) std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      return e.what();
    }
    return "";
  }
  std::optional<ErrorCategory> category() const {
    try {
      if (failure) std::rethrow_exception(failure);
    } catch (const Error& e) {
      return e.category();
    } catch (...) {
    }
    return std::nullopt;
  }
};

class CaptureFirstConnection : public testing::Test {
 protected:
  void SetUp() override {
    thread_ = std::thread([this] { ctx_.run(); });
  }
  void TearDown() override {
    if (late_.joinable()) late_.join();
    work_.reset();
    ctx_.stop();
    thread_.join();
  }

  // Console on `port` (acquired afresh for every attempt, as providers do), counting the calls.
  Acquire console_at(int port, std::string password = {}) {
    return [this, port, password] {
      ++acquires_;
      Console c;
      c.endpoint.url = "vnc://127.0.0.1:" + std::to_string(port);
      c.endpoint.connect_timeout = 2s;
      c.options.password = password;
      return c;
    };
  }
  // The console starts listening on `port` after `delay`, as a booting VM's does.
  void start_console_later(int port, Clock::duration delay) {
    late_ = std::thread([this, port, delay] {
      std::this_thread::sleep_for(delay);
      upstream_.emplace(ctx_, port);
    });
  }

  // Runs a capture until it publishes a frame, fails, or `timeout` passes.
  static Outcome run(const Acquire& acquire, CaptureOptions options, Clock::duration timeout = 10s) {
    JobClock clock;
    FrameSlot slot;
    Capture capture(acquire, options, clock, slot);
    Outcome out;
    const auto started = Clock::now();
    capture.start();
    while (Clock::now() - started < timeout) {
      if (slot.take(Clock::now() + 50ms)) {
        out.frame = true;
        break;
      }
      if ((out.failure = capture.failure())) break;
    }
    out.after = Clock::now() - started;
    capture.stop();
    return out;
  }

  asio::io_context ctx_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{ctx_.get_executor()};
  std::optional<test::RfbUpstream> upstream_;  // outlives the io_context's thread
  std::thread thread_, late_;
  std::atomic<int> acquires_{0};
};

TEST_F(CaptureFirstConnection, RefusedFailsAtOnceWithoutGrace) {
  const auto out = run(console_at(test::free_port()), CaptureOptions{});
  EXPECT_FALSE(out.frame);
  EXPECT_LT(out.after, 1s);
  EXPECT_EQ(out.category(), ErrorCategory::io);
  EXPECT_NE(out.message().find("refused"), std::string::npos) << out.message();
  EXPECT_EQ(acquires_, 1);
}

TEST_F(CaptureFirstConnection, WaitsWithinTheGraceForAConsoleStillComingUp) {
  const int port = test::free_port();
  start_console_later(port, 1500ms);
  const auto out = run(console_at(port), CaptureOptions{.connect_grace = 8s});
  EXPECT_TRUE(out.frame) << out.message();
  EXPECT_GE(out.after, 1500ms);
  EXPECT_GE(acquires_, 3) << "refused, backed off, tried again";
}

TEST_F(CaptureFirstConnection, GraceRunsOutWithTheReason) {
  const auto out = run(console_at(test::free_port()), CaptureOptions{.connect_grace = 1200ms});
  EXPECT_FALSE(out.frame);
  // The last attempt falls on the end of the grace, not a backoff step (up to 5 s) later.
  EXPECT_GE(out.after, 1200ms);
  EXPECT_LT(out.after, 2500ms);
  EXPECT_EQ(out.category(), ErrorCategory::io);
  EXPECT_NE(out.message().find("within the 1.2 s connect grace"), std::string::npos) << out.message();
  EXPECT_NE(out.message().find("refused"), std::string::npos) << out.message();
}

TEST_F(CaptureFirstConnection, WrongPasswordFailsAtOnceDespiteTheGrace) {
  upstream_.emplace(ctx_, 0, "secret12");
  const auto out = run(console_at(upstream_->port(), "wrong"), CaptureOptions{.connect_grace = 10s});
  EXPECT_FALSE(out.frame);
  EXPECT_LT(out.after, 2s);
  EXPECT_EQ(out.category(), ErrorCategory::auth) << out.message();
  EXPECT_EQ(acquires_, 1);
}

TEST_F(CaptureFirstConnection, ProviderRefusalFailsAtOnceDespiteTheGrace) {
  const auto out = run(
      [this]() -> Console {
        ++acquires_;
        throw ProviderError("OpenStack server 6f1d: get console (404): No server with a name or ID of '6f1d'");
      },
      CaptureOptions{.connect_grace = 10s});
  EXPECT_FALSE(out.frame);
  EXPECT_LT(out.after, 1s);
  EXPECT_EQ(out.category(), ErrorCategory::provider);
  EXPECT_NE(out.message().find("404"), std::string::npos) << out.message();
  EXPECT_EQ(acquires_, 1) << "an unknown server is not retried";
}

// After a restart the provider API and the console come back in their own time: any fault is retried.
TEST_F(CaptureFirstConnection, ResumedRetriesAnyFaultUntilTheConsoleIsBack) {
  const int port = test::free_port();
  start_console_later(port, 1500ms);
  auto console = console_at(port);
  const auto out = run(
      [this, console]() -> Console {
        if (acquires_ == 0) {
          ++acquires_;
          throw ProviderError("Proxmox login: 503 Service Unavailable");
        }
        return console();
      },
      CaptureOptions{.give_up = 8s, .resumed = true});
  EXPECT_TRUE(out.frame) << out.message();
  EXPECT_GE(out.after, 1500ms);
  EXPECT_GE(acquires_, 3);
}

TEST_F(CaptureFirstConnection, ResumedGivesUpAfterTheReconnectWindowWithTheReason) {
  const auto out = run(console_at(test::free_port()), CaptureOptions{.give_up = 1s, .resumed = true});
  EXPECT_FALSE(out.frame);
  EXPECT_GE(out.after, 1s);
  EXPECT_LT(out.after, 2500ms);
  EXPECT_EQ(out.category(), ErrorCategory::io);
  EXPECT_NE(out.message().find("not reachable for 1 s after resuming, giving up"), std::string::npos) << out.message();
  EXPECT_NE(out.message().find("refused"), std::string::npos) << out.message();
}

}  // namespace
}  // namespace vncgate::record
