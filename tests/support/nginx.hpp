// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <vector>

#include "support/process.hpp"

namespace vncgate::test {

// nginx from Debian (nginx-light) as a plain round-robin load balancer on a free 127.0.0.1 port in front of
// `upstream_ports` (127.0.0.1 each): HTTP/1.1, WebSocket upgrades passed through, the client's Host kept. One
// process (master_process off) with its config, logs and temp files in a directory of its own; stopped by PID.
// The access log names the upstream of every request: "METHOD URI UPSTREAM_ADDR STATUS".
class NginxProxy {
 public:
  explicit NginxProxy(const std::vector<int>& upstream_ports);  // throws std::runtime_error when it cannot start
  ~NginxProxy();
  NginxProxy(const NginxProxy&) = delete;
  NginxProxy& operator=(const NginxProxy&) = delete;

  int port() const { return port_; }
  std::string url(const std::string& path = "") const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  // The access log so far (lines are written when a request ends: a WebSocket's when it closes).
  std::string access_log() const { return read_file(dir_.file("access.log")); }
  std::string error_log() const { return read_file(dir_.file("error.log")); }

 private:
  TempDir dir_{"vncgate-nginx"};
  int port_ = 0;
  Process process_;
};

// The nginx binary ($VNCGATE_NGINX, else /usr/sbin/nginx); "" when there is none.
std::string nginx_binary();

}  // namespace vncgate::test
