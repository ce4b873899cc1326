// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace vncgate::jobs {

// A counter of "there may be work" announcements that threads can wait on without losing one: a waiter takes
// mark() before it looks for work and then waits for the counter to move past it (JobStore::work_mark and
// wait_for_work).
class WorkSignal {
 public:
  std::uint64_t mark() const;
  // Counts an announcement and wakes every waiter.
  void notify();
  // True as soon as the counter has moved past `mark` (at once if it already has); false after `timeout`.
  bool wait(std::uint64_t mark, std::chrono::milliseconds timeout);

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::uint64_t count_ = 0;
};

}  // namespace vncgate::jobs
