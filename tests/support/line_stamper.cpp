// SPDX-License-Identifier: Apache-2.0
#include "support/line_stamper.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <stdexcept>

#include "support/process.hpp"

namespace vncgate::test {

std::int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t parse_utc_ms(const std::string& iso) {
  std::tm tm{};
  int ms = 0;
  if (std::sscanf(iso.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                  &tm.tm_sec, &ms) != 7)
    throw std::runtime_error("not a timestamp: " + iso);
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<std::int64_t>(timegm(&tm)) * 1000 + ms;
}

LineStamper::LineStamper(std::string path) : path_(std::move(path)), thread_([this] { run(); }) {}

LineStamper::~LineStamper() {
  stop_ = true;
  thread_.join();
}

std::map<std::string, std::int64_t> LineStamper::seen() {
  std::lock_guard lock(mutex_);
  return seen_;
}

void LineStamper::run() {
  std::size_t done = 0;
  while (!stop_) {
    const auto text = read_file(path_);
    const auto now = unix_now_ms();
    for (std::size_t nl; (nl = text.find('\n', done)) != std::string::npos; done = nl + 1) {
      auto line = text.substr(done, nl - done);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      std::lock_guard lock(mutex_);
      seen_.emplace(std::move(line), now);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

}  // namespace vncgate::test
