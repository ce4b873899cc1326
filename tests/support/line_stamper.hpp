// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace vncgate::test {

// Wall clock, Unix milliseconds.
std::int64_t unix_now_ms();
// "2026-11-26T06:25:01.250Z" (the sidecars' and the API's times) → Unix milliseconds; throws
// std::runtime_error when it is not one.
std::int64_t parse_utc_ms(const std::string& iso);

// Stamps each new line of a growing file (a guest's serial log) with the Unix time it was first seen, polling
// every 2 ms on a thread of its own: the oracle for when a guest printed something.
class LineStamper {
 public:
  explicit LineStamper(std::string path);
  ~LineStamper();
  LineStamper(const LineStamper&) = delete;
  LineStamper& operator=(const LineStamper&) = delete;

  // Each distinct line with its first sighting.
  std::map<std::string, std::int64_t> seen();

 private:
  void run();

  std::string path_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::map<std::string, std::int64_t> seen_;
  std::thread thread_;
};

}  // namespace vncgate::test
