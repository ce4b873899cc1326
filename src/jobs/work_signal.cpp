// SPDX-License-Identifier: Apache-2.0
#include "jobs/work_signal.hpp"

namespace vncgate::jobs {

std::uint64_t WorkSignal::mark() const {
  std::lock_guard lock(mutex_);
  return count_;
}

void WorkSignal::notify() {
  {
    std::lock_guard lock(mutex_);
    ++count_;
  }
  changed_.notify_all();
}

bool WorkSignal::wait(std::uint64_t mark, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return count_ != mark; });
}

}  // namespace vncgate::jobs
