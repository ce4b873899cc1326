// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace vncgate::test {

// The receiving end of sd_notify(3), as systemd has it for a Type=notify unit: an AF_UNIX datagram socket bound
// to `path` (a file path, or "@name" for the abstract namespace). env_value() is what $NOTIFY_SOCKET holds.
class NotifySocket {
 public:
  explicit NotifySocket(std::string path);
  ~NotifySocket();
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  const std::string& env_value() const { return path_; }
  // The next datagram, or nullopt after `timeout`.
  std::optional<std::string> receive(std::chrono::milliseconds timeout);
  // Datagrams until one contains `text` (that one is returned, with every earlier one before it, joined by
  // " | "); nullopt after `timeout`, and `seen` (when given) gets what did arrive.
  std::optional<std::string> wait_for(const std::string& text, std::chrono::milliseconds timeout,
                                      std::string* seen = nullptr);

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace vncgate::test
