// SPDX-License-Identifier: Apache-2.0
// Peers for the provider tests: a real Keystone (Debian python3-keystone under uwsgi, SQLite), and the Nova and
// Proxmox API emulators from tests/emulators (node). Each starts on free loopback ports in its own temp dir and
// is stopped by PID when destroyed.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "support/process.hpp"

namespace vncgate::test {

// Keystone Zed on 127.0.0.1 with fernet tokens valid for `token_lifetime`. populate() creates the compute
// service (endpoints: public + internal in RegionOne at `nova_url`, public in RegionTwo), project demo, users
// demo (member; password demo-pw) and viewer (reader; viewer-pw), and an application credential of demo.
// RegionTwo's public compute endpoint is `region_two_nova_url`.
class Keystone {
 public:
  explicit Keystone(std::chrono::seconds token_lifetime = std::chrono::seconds(3600));
  ~Keystone();

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v3"; }
  int port() const { return port_; }
  // {project_id, demo_user_id, viewer_user_id, app_cred_id, app_cred_secret}
  const nlohmann::json& populate(const std::string& nova_url, const std::string& region_two_nova_url);
  const nlohmann::json& ids() const { return ids_; }
  std::string log() const { return process_.log_tail(3000); }
  static constexpr const char* kAdminPassword = "secret";

 private:
  TempDir dir_{"vncgate-keystone"};
  Process process_;
  int port_ = 0;
  nlohmann::json ids_;
};

// `node tests/emulators/NAME.js config.json` on config["port"] (a free port is filled in when absent).
class Emulator {
 public:
  Emulator(const std::string& name, nlohmann::json config);
  ~Emulator();
  int port() const { return port_; }
  std::string log() const { return process_.log_tail(3000); }

 private:
  TempDir dir_{"vncgate-emulator"};
  Process process_;
  int port_ = 0;
};

// websockify --token-plugin TokenFile --token-source DIR (nova-novncproxy stand-in whose tokens the Nova
// emulator writes).
class TokenProxy {
 public:
  TokenProxy();
  ~TokenProxy();
  int port() const { return port_; }
  const std::string& token_dir() const { return token_dir_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  TempDir dir_{"vncgate-novncproxy"};
  std::string token_dir_;
  Process process_;
  int port_ = 0;
};

// Runs the vncgate binary with `env` added to ours; returns the exit code and leaves the output in `log_file`.
int run_vncgate(std::vector<std::string> args, const Env& env, const std::string& log_file);

// OS_* / PROXMOX_* variables the tests do not set explicitly, blanked so the developer's shell cannot leak in.
Env blank_provider_env();

}  // namespace vncgate::test
