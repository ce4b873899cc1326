// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <memory>

#include "service/settings.hpp"

namespace vncgate::service {

// `vncgate serve`: the job store, storage, the job runner and uploader, and the HTTP API on top.
class Service {
 public:
  // Opens the database and the storage (ConfigError/StorageError when they cannot be).
  explicit Service(ServiceSettings settings);
  ~Service();
  // Recovers interrupted jobs, starts the workers and the HTTP listener.
  void start();
  // Blocks until stop() (or SIGINT/SIGTERM when `handle_signals`).
  void run(bool handle_signals);
  // Graceful: stops accepting, closes open segments (their jobs resume at the next start), waits for the
  // upload in progress. Idempotent.
  void stop();
  std::uint16_t port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vncgate::service
