// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "support/process.hpp"

namespace vncgate::test {

// websockify with the TokenFile plugin (the stand-in for nova-novncproxy) on 127.0.0.1:port(). Each token maps
// to a "host:port" target; clients connect to ws://127.0.0.1:port/?token=TOKEN. The constructor returns once
// the port accepts connections; the destructor stops websockify. With a `web_root`, plain HTTP requests get
// files from it (`--web`): a page served from http_url() can open the WebSocket on the same origin.
class Websockify {
 public:
  using Tokens = std::vector<std::pair<std::string, std::string>>;  // token -> "host:port"
  explicit Websockify(const Tokens& tokens, const std::string& web_root = "");
  ~Websockify();

  int port() const { return port_; }
  std::string url(const std::string& token) const {
    return "ws://127.0.0.1:" + std::to_string(port_) + "/?token=" + token;
  }
  // http://127.0.0.1:port + path (path starts with '/').
  std::string http_url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  std::string log() const { return process_.log_tail(4000); }

 private:
  TempDir dir_{"vncgate-websockify"};
  Process process_;
  int port_ = 0;
};

}  // namespace vncgate::test
