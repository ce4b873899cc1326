// SPDX-License-Identifier: Apache-2.0
// `vncgate serve` as a child process, and a small HTTP client for its API (our http::send_blocking).
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "http/http_client.hpp"
#include "support/process.hpp"

namespace vncgate::test {

struct ServeOptions {
  std::string data_dir;                 // database, work dir and (default) file storage live here
  std::string storage_url;              // "" = file://<data_dir>/recordings
  std::vector<std::string> targets;     // NAME=TARGET
  std::vector<std::string> extra_args;  // more flags (--set …)
  Env env;                              // more environment (VNCGATE_S3_*)
  int port = 0;                         // 0 = a free one
  std::string scheme = "http";          // "https" with server.tls_cert/tls_key set in extra_args
  std::string ca_file;                  // for https: the certificate to trust
  // The explicit choices of a local setup (docs/security.md), on unless a test checks their absence.
  bool allow_no_auth = true;   // server.allow_no_auth
  bool allow_loopback = true;  // providers.allow_loopback: the test peers run on 127.0.0.1
};

class ServeProcess {
 public:
  explicit ServeProcess(ServeOptions options);
  ~ServeProcess();
  void start();  // waits until /healthz answers
  void kill9();  // SIGKILL, as a crash
  int stop();    // SIGTERM; the exit status
  int port() const { return port_; }
  pid_t pid() const { return process_.pid(); }
  bool running() { return process_.running(); }
  std::string url(const std::string& path) const {
    return options_.scheme + "://127.0.0.1:" + std::to_string(port_) + path;
  }
  // One plain-HTTP GET (throws when the server does not answer HTTP).
  static http::Response plain_get(int port, const std::string& path);
  std::string log_tail(std::size_t max_bytes = 4000) const { return process_.log_tail(max_bytes); }
  const std::string& log_file() const { return process_.log_file(); }
  const ServeOptions& options() const { return options_; }

  http::Response request(const std::string& method, const std::string& path, const std::string& body = {},
                         const http::Headers& headers = {}) const;
  nlohmann::json json(const std::string& method, const std::string& path, const std::string& body = {},
                      int expected_status = 200) const;
  // Polls GET /api/v1/recordings/{id} until `done(job)` or the timeout; returns the last job seen.
  nlohmann::json wait_job(const std::string& job_id, const std::function<bool(const nlohmann::json&)>& done,
                          std::chrono::seconds timeout) const;
  nlohmann::json wait_state(const std::string& job_id, const std::string& state, std::chrono::seconds timeout) const;

 private:
  ServeOptions options_;
  int port_ = 0;
  int starts_ = 0;
  Process process_;
};

std::string sha256_of_file(const std::string& path);

// The status code ("101", "403", …) a raw WebSocket upgrade of `path` on 127.0.0.1:`port` gets; `headers` are
// extra "Name: value\r\n" lines (Origin, tickets).
std::string upgrade_status(int port, const std::string& path, const std::string& headers);

}  // namespace vncgate::test
