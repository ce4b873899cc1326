// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <algorithm>
#include <chrono>

namespace vncgate {

// Reconnect delays for a dropped upstream: 250 ms, doubling up to 5 s; reset() once a connection came up
// again. Shared by the recorder's capture and the gateway's sessions so both treat a flapping console alike.
class Backoff {
 public:
  explicit Backoff(std::chrono::milliseconds first = std::chrono::milliseconds(250),
                   std::chrono::milliseconds max = std::chrono::milliseconds(5000))
      : first_(first), max_(max), next_(first) {}

  // The delay to wait now; the following one doubles.
  std::chrono::milliseconds next() {
    const auto now = next_;
    next_ = std::min(next_ * 2, max_);
    return now;
  }
  void reset() { next_ = first_; }

 private:
  std::chrono::milliseconds first_, max_, next_;
};

}  // namespace vncgate
