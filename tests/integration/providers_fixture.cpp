// SPDX-License-Identifier: Apache-2.0
#include "integration/providers_fixture.hpp"

#include <filesystem>
#include <stdexcept>

namespace vncgate::test {

using namespace std::chrono_literals;

namespace {

void must_run(const std::vector<std::string>& argv, const std::string& log, std::chrono::milliseconds timeout = 60s) {
  if (run_command(argv, log, timeout) != 0) {
    throw std::runtime_error(argv[0] + " " + (argv.size() > 3 ? argv[3] : "") + " failed:\n" + read_file(log));
  }
}

// Starts `argv` (which listens on `port`) and waits until the port accepts connections.
Process start_listening(const std::vector<std::string>& argv, const std::string& log, int port,
                        std::chrono::milliseconds timeout, const Env& env = {}) {
  Process p(argv, log, env);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline && p.running()) {
    if (wait_for_port(port, 100ms)) return p;
  }
  throw std::runtime_error(argv[0] + " did not listen on " + std::to_string(port) + ":\n" + p.log_tail(3000));
}

}  // namespace

Keystone::Keystone(std::chrono::seconds token_lifetime) {
  const std::string d = dir_.path();
  const std::string conf = dir_.file("keystone.conf");
  write_file(conf, "[DEFAULT]\nlog_file = " + d +
                       "/keystone.log\n"
                       "[database]\nconnection = sqlite:///" +
                       d +
                       "/keystone.db\n"
                       "[token]\nprovider = fernet\nexpiration = " +
                       std::to_string(token_lifetime.count()) +
                       "\n"
                       "[fernet_tokens]\nkey_repository = " +
                       d +
                       "/fernet-keys\n"
                       "[credential]\nkey_repository = " +
                       d + "/credential-keys\n");
  port_ = free_port();
  const std::string log = dir_.file("manage.log");
  must_run({"keystone-manage", "--config-file", conf, "db_sync"}, log, 120s);
  // Without WAL, SQLite locks up after a few concurrent writes (TESTING.md).
  must_run({"sqlite3", d + "/keystone.db", "PRAGMA journal_mode=WAL;"}, log);
  must_run(
      {"keystone-manage", "--config-file", conf, "fernet_setup", "--keystone-user", "root", "--keystone-group", "root"},
      log);
  must_run({"keystone-manage", "--config-file", conf, "credential_setup", "--keystone-user", "root", "--keystone-group",
            "root"},
           log);
  must_run({"keystone-manage", "--config-file", conf, "bootstrap", "--bootstrap-password", kAdminPassword,
            "--bootstrap-public-url", url() + "/", "--bootstrap-region-id", "RegionOne"},
           log);
  process_ = start_listening(
      {"uwsgi_python3", "--http-socket", "127.0.0.1:" + std::to_string(port_), "--wsgi-file",
       "/usr/bin/keystone-wsgi-public", "--need-app", "--master", "--processes", "1", "--threads", "8",
       "--enable-threads", "--buffer-size", "65535", "--die-on-term", "--env", "OS_KEYSTONE_CONFIG_FILES=" + conf},
      dir_.file("uwsgi.log"), port_, 60s);
}

Keystone::~Keystone() { process_.stop(5000ms); }

const nlohmann::json& Keystone::populate(const std::string& nova_url, const std::string& region_two_nova_url) {
  const std::string out = dir_.file("ids.json");
  // The node script prints the ids on stdout; run it through sh to capture them in a file of their own.
  const int rc = run_command({"sh", "-c", "exec node \"$0\" \"$1\" \"$2\" \"$3\" \"$4\" > \"$5\"",
                              std::string(VNCGATE_EMULATORS_DIR) + "/keystone_setup.js", url(), kAdminPassword,
                              nova_url, region_two_nova_url, out},
                             dir_.file("setup.log"), 60s);
  if (rc != 0) throw std::runtime_error("keystone_setup.js failed:\n" + read_file(dir_.file("setup.log")) + log());
  ids_ = nlohmann::json::parse(read_file(out));
  return ids_;
}

Emulator::Emulator(const std::string& name, nlohmann::json config) {
  if (!config.contains("port")) config["port"] = free_port();
  port_ = config["port"].get<int>();
  const std::string file = dir_.file("config.json");
  write_file(file, config.dump(2));
  process_ = start_listening({"node", std::string(VNCGATE_EMULATORS_DIR) + "/" + name + ".js", file},
                             dir_.file(name + ".log"), port_, 20s);
}

Emulator::~Emulator() { process_.stop(2000ms); }

TokenProxy::TokenProxy() : token_dir_(dir_.file("tokens")) {
  std::filesystem::create_directory(token_dir_);
  port_ = free_port();
  process_ = start_listening(
      {"websockify", "--token-plugin", "TokenFile", "--token-source", token_dir_, "127.0.0.1:" + std::to_string(port_)},
      dir_.file("websockify.log"), port_, 20s);
}

TokenProxy::~TokenProxy() { process_.stop(2000ms); }

int run_vncgate(std::vector<std::string> args, const Env& env, const std::string& log_file) {
  args.insert(args.begin(), VNCGATE_BINARY);
  Env full = blank_provider_env();
  for (const auto& [k, v] : env) {
    // One entry per name: with duplicates in the environment, getenv() would see the first (blank) one.
    std::erase_if(full, [&k](const auto& entry) { return entry.first == k; });
    full.emplace_back(k, v);
  }
  return run_command(args, log_file, 60s, full);
}

Env blank_provider_env() {
  Env env;
  for (const char* name : {"OS_AUTH_URL",
                           "OS_USERNAME",
                           "OS_USER_ID",
                           "OS_PASSWORD",
                           "OS_PASSWORD_FILE",
                           "OS_USER_DOMAIN_NAME",
                           "OS_USER_DOMAIN_ID",
                           "OS_PROJECT_NAME",
                           "OS_PROJECT_ID",
                           "OS_TENANT_NAME",
                           "OS_TENANT_ID",
                           "OS_PROJECT_DOMAIN_NAME",
                           "OS_PROJECT_DOMAIN_ID",
                           "OS_DEFAULT_DOMAIN",
                           "OS_APPLICATION_CREDENTIAL_ID",
                           "OS_APPLICATION_CREDENTIAL_NAME",
                           "OS_APPLICATION_CREDENTIAL_SECRET",
                           "OS_APPLICATION_CREDENTIAL_SECRET_FILE",
                           "OS_REGION_NAME",
                           "OS_INTERFACE",
                           "OS_ENDPOINT_TYPE",
                           "OS_CACERT",
                           "OS_INSECURE",
                           "PROXMOX_URL",
                           "PROXMOX_TOKEN_ID",
                           "PROXMOX_TOKEN_SECRET",
                           "PROXMOX_TOKEN_SECRET_FILE",
                           "PROXMOX_USER",
                           "PROXMOX_PASSWORD",
                           "PROXMOX_PASSWORD_FILE",
                           "PROXMOX_CA_FILE",
                           "PROXMOX_FINGERPRINT",
                           "PROXMOX_INSECURE",
                           "VNCGATE_ALLOW",
                           "VNCGATE_VNC_PASSWORD"}) {
    env.emplace_back(name, "");
  }
  return env;
}

}  // namespace vncgate::test
