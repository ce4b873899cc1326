// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <functional>
#include <thread>

namespace vncgate::cli {

// The signals of `vncgate serve` next to the service's own SIGINT/SIGTERM handling (Service::run): SIGHUP calls
// `on_reload`; SIGINT/SIGTERM tell systemd STOPPING=1 (the service itself shuts down on them). Its own thread and
// io_context, so a reload never waits for the service's threads. Construct it before the service, so that a
// SIGHUP during start-up is caught instead of ending the process.
class ServeSignals {
 public:
  explicit ServeSignals(std::function<void()> on_reload);
  ~ServeSignals();
  ServeSignals(const ServeSignals&) = delete;
  ServeSignals& operator=(const ServeSignals&) = delete;

 private:
  void wait();

  std::function<void()> on_reload_;
  boost::asio::io_context io_;
  boost::asio::signal_set signals_;
  std::thread thread_;
};

}  // namespace vncgate::cli
