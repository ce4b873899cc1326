// SPDX-License-Identifier: Apache-2.0
#include "jobs/postgres/listener.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/backoff.hpp"
#include "util/log.hpp"

namespace vncgate::jobs::postgres {

Listener::Listener(ConnectionSettings settings, std::string channel, WorkSignal& signal)
    : settings_(std::move(settings)), channel_(std::move(channel)), signal_(signal) {
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC);
  if (stop_fd_ < 0) throw StorageError(std::string("job database listener: eventfd: ") + std::strerror(errno));
  thread_ = std::thread([this] { run(); });
}

Listener::~Listener() {
  stopping_ = true;
  const std::uint64_t one = 1;
  [[maybe_unused]] auto written = ::write(stop_fd_, &one, sizeof one);
  thread_.join();
  ::close(stop_fd_);
}

bool Listener::wait_listening(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return listening_changed_.wait_for(lock, timeout, [this] { return listening_; });
}

bool Listener::pause(int ms) {
  pollfd fd{stop_fd_, POLLIN, 0};
  ::poll(&fd, 1, ms);
  return !stopping_;
}

void Listener::run() {
  Backoff backoff;
  bool was_down = false;
  while (!stopping_) {
    try {
      Connection connection(settings_);
      connection.exec("LISTEN " + channel_);
      if (was_down) spdlog::info("job database {}: listening for new jobs again", settings_.label);
      was_down = false;
      backoff.reset();
      signal_.notify();  // anything announced before LISTEN took effect is looked for now
      {
        std::lock_guard lock(mutex_);
        listening_ = true;
      }
      listening_changed_.notify_all();
      listen(connection);
    } catch (const StorageError& e) {
      if (!was_down) spdlog::warn("job database: not listening for new jobs ({}); reconnecting", e.what());
      was_down = true;
    }
    if (!pause(static_cast<int>(backoff.next().count()))) return;
  }
}

void Listener::listen(Connection& connection) {
  while (!stopping_) {
    pollfd fds[2] = {{connection.socket(), POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) {
      throw StorageError(std::string("job database listener: poll: ") + std::strerror(errno));
    }
    if (fds[1].revents) return;
    if (fds[0].revents == 0) continue;
    connection.consume_input();
    if (!connection.notifications().empty()) signal_.notify();
  }
}

}  // namespace vncgate::jobs::postgres
