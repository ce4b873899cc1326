// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>

#include "io/endpoint.hpp"
#include "record/frame_slot.hpp"
#include "rfb/client_connection.hpp"
#include "rfb/upstream_link.hpp"

namespace vncgate::record {

using Console = rfb::Console;
// How to reach the console right now. Called again for every reconnect (provider consoles hand out one-time
// ports and tickets), on the capture's own thread: it may block (a provider's HTTP API) — only this recording,
// whose connection is down meanwhile, waits for it.
using Acquire = std::function<Console()>;

// The job's timeline: milliseconds since the first complete frame. Shared by the network and encoder threads.
class JobClock {
 public:
  // Starts the clock if it is not running yet; returns the current job time.
  std::int64_t start_or_now() {
    std::int64_t expected = -1;
    origin_ns_.compare_exchange_strong(expected, now_ns());
    return now_ms();
  }
  bool started() const { return origin_ns_.load() >= 0; }
  std::int64_t now_ms() const { return (now_ns() - origin_ns_.load()) / 1'000'000; }
  std::chrono::steady_clock::time_point at(std::int64_t job_ms) const {
    return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(origin_ns_.load() + job_ms * 1'000'000));
  }

 private:
  static std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  std::atomic<std::int64_t> origin_ns_{-1};
};

struct CaptureOptions {
  double fps = 10;                           // at most this many update requests (and frames) a second
  std::chrono::milliseconds give_up{60000};  // stop reconnecting after the upstream was gone this long
  // Until a first connection came up, a new recording retries only a console that is not reachable yet (I/O
  // faults: refused, timed out, closed), for this long: a VM still booting. Auth, provider and protocol faults
  // end it at once (retrying cannot fix a typo or a wrong password). 0 = the first fault ends it.
  std::chrono::milliseconds connect_grace{0};
  // The recording continues one a restart interrupted: its console was up before, so the first connection is
  // retried like a reconnect after a drop (any fault, backoff, for `give_up`).
  bool resumed = false;
  bool cursor = false;  // draw the remote pointer into the frames
  // After this long without an update the connection hibernates (ClientConnection::hibernate(): the picture
  // compressed, decoder buffers and zlib windows freed) until the next one; 0 = never. The Recorder sets it
  // from EncoderSettings::hibernate_after_s.
  std::chrono::milliseconds hibernate_after{0};
};

// Network-thread events (all optional). `prepare` sees each new connection before it connects (install an
// FBS tap there: the stream carries zlib state from its first byte); `tick` comes once per capture period
// (1/fps) while that connection is open, also when the screen is still (an FBS writer's upkeep).
struct CaptureEvents {
  std::function<void(int connection, rfb::ClientConnection&)> prepare;
  std::function<void(int connection)> tick;
  std::function<void(int connection, const rfb::ServerInit&, const rfb::PixelFormat& pinned)> connected;
  std::function<void(const std::string& reason)> disconnected;
  std::function<void(int width, int height)> resized;
};

// The network side of a recording: one rfb::UpstreamLink (re-acquired and reconnected with backoff when it
// drops, within the options' windows), update requests paced at `fps`, and every completed screen published
// into a FrameSlot stamped on the job clock. Runs its own thread; never waits for the encoder.
class Capture {
 public:
  Capture(Acquire acquire, CaptureOptions options, JobClock& clock, FrameSlot& slot, CaptureEvents events = {});
  ~Capture();

  void start();
  // Closes the connection and joins the thread. Idempotent.
  void stop();
  // Set when the capture gave up: the first connection failed (at once, or past connect_grace), or the
  // upstream stayed away past give_up.
  std::exception_ptr failure() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vncgate::record
