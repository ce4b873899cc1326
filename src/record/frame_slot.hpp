// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>

#include "framebuffer/pixel_buffer.hpp"

namespace vncgate::record {

// Hands frames from the network thread to the encoder thread. One slot, newest wins: a frame not yet taken
// is overwritten, so a slow encoder skips frames instead of queueing them and the network never waits.
class FrameSlot {
 public:
  struct Frame {
    framebuffer::PixelBuffer pixels;
    std::int64_t t_ms = 0;
  };

  void publish(const framebuffer::PixelBuffer& pixels, std::int64_t t_ms) {
    {
      std::lock_guard lock(mutex_);
      if (full_) ++dropped_;
      pixels.copy_to(slot_.pixels);
      slot_.t_ms = t_ms;
      full_ = true;
    }
    changed_.notify_one();
  }

  // Waits until a frame is there, `deadline` passes or wake() is called; the frame's buffer is swapped
  // with `reuse` (the caller's spent buffer) to avoid reallocating while frames keep coming.
  std::optional<Frame> take(std::chrono::steady_clock::time_point deadline, framebuffer::PixelBuffer reuse = {}) {
    std::unique_lock lock(mutex_);
    changed_.wait_until(lock, deadline, [&] { return full_ || woken_; });
    woken_ = false;
    if (!full_) {
      slot_.pixels = {};  // the screen is still: no spare picture kept meanwhile (`reuse` goes too)
      return std::nullopt;
    }
    full_ = false;
    Frame out;
    out.t_ms = slot_.t_ms;
    std::swap(out.pixels, slot_.pixels);
    slot_.pixels = std::move(reuse);
    return out;
  }

  void wake() {
    {
      std::lock_guard lock(mutex_);
      woken_ = true;
    }
    changed_.notify_one();
  }

  std::uint64_t dropped() const {
    std::lock_guard lock(mutex_);
    return dropped_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  Frame slot_;
  bool full_ = false;
  bool woken_ = false;
  std::uint64_t dropped_ = 0;
};

}  // namespace vncgate::record
