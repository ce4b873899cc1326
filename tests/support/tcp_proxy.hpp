// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <memory>
#include <thread>

namespace vncgate::test {

// A TCP proxy on a free loopback port to 127.0.0.1:`target_port`, on its own thread, that can stall: while
// stalled it moves no bytes either way (connections stay open and requests hang, as behind a storage endpoint
// that stops answering), and carries on where it was when released.
class TcpProxy {
 public:
  explicit TcpProxy(int target_port);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  int port() const { return port_; }
  void stall(bool on) { stalled_ = on; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
  std::atomic<bool> stalled_{false};
  std::thread thread_;
};

}  // namespace vncgate::test
