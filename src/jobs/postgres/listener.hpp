// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "jobs/postgres/connection.hpp"
#include "jobs/work_signal.hpp"

namespace vncgate::jobs::postgres {

// A thread with a connection of its own that LISTENs on `channel` and turns every notification into
// signal.notify(). When the connection drops (a server restart) it reconnects with backoff and notifies once
// more after LISTEN is back: whatever was announced meanwhile is looked for, nothing is lost.
class Listener {
 public:
  Listener(ConnectionSettings settings, std::string channel, WorkSignal& signal);
  ~Listener();  // stops the thread at once
  // Waits until the first LISTEN has taken effect (false after `timeout`): from then on no announcement is
  // missed, and the wake-up the listener gives when it starts listening has happened.
  bool wait_listening(std::chrono::milliseconds timeout);
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

 private:
  void run();
  // Waits on the connection's socket (or the stop event) and hands on notifications until the connection fails.
  void listen(Connection& connection);
  // Sleeps up to `ms`, or less when asked to stop; false when stopping.
  bool pause(int ms);

  ConnectionSettings settings_;
  std::string channel_;
  WorkSignal& signal_;
  int stop_fd_ = -1;  // an eventfd: written once to stop
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable listening_changed_;
  bool listening_ = false;
  std::thread thread_;
};

}  // namespace vncgate::jobs::postgres
