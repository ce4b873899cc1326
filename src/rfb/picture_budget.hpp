// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <cstdint>

namespace vncgate::rfb {

// Memory for console pictures shared by many connections (a gateway's sessions): each connection reserves its
// framebuffer's bytes before allocating it, so hostile servers claiming huge screens cannot together exhaust
// the process (docs/security.md). Thread-safe.
class PictureBudget {
 public:
  explicit PictureBudget(std::uint64_t bytes) : limit_(bytes) {}
  // False (nothing reserved) when `bytes` more would exceed the budget.
  bool reserve(std::uint64_t bytes) {
    auto used = used_.load();
    do {
      if (bytes > limit_ || used > limit_ - bytes) return false;
    } while (!used_.compare_exchange_weak(used, used + bytes));
    return true;
  }
  void release(std::uint64_t bytes) { used_ -= bytes; }
  std::uint64_t used() const { return used_.load(); }
  std::uint64_t limit() const { return limit_; }

 private:
  const std::uint64_t limit_;
  std::atomic<std::uint64_t> used_{0};
};

}  // namespace vncgate::rfb
