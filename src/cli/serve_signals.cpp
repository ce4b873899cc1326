// SPDX-License-Identifier: Apache-2.0
#include "cli/serve_signals.hpp"

#include <csignal>
#include <exception>
#include <utility>

#include "service/systemd_notify.hpp"
#include "util/log.hpp"

namespace vncgate::cli {

ServeSignals::ServeSignals(std::function<void()> on_reload)
    : on_reload_(std::move(on_reload)), signals_(io_, SIGHUP, SIGINT, SIGTERM) {
  wait();
  thread_ = std::thread([this] { io_.run(); });
}

ServeSignals::~ServeSignals() {
  io_.stop();
  if (thread_.joinable()) thread_.join();
}

void ServeSignals::wait() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    if (signal == SIGHUP) {
      spdlog::info("serve: SIGHUP, reloading the configuration");
      service::systemd_notify("RELOADING=1");
      try {
        on_reload_();
      } catch (const std::exception& e) {
        spdlog::error("serve: reload failed: {}", e.what());
      }
      service::systemd_notify("READY=1");
    } else {
      service::systemd_notify("STOPPING=1");
    }
    wait();  // a second SIGTERM is the service's to ignore; keep SIGHUP from killing a stopping process
  });
}

}  // namespace vncgate::cli
