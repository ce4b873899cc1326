// SPDX-License-Identifier: Apache-2.0
#include "integration/providers_fixture.hpp"

#include <filesystem>
#include <functional>
#include <stdexcept>
#include <utility>

namespace vncgate::test {

using namespace std::chrono_literals;

namespace {

void must_run(const std::vector<std::string>& argv, const std::string& log, std::chrono::milliseconds timeout = 60s) {
  if (run_command(argv, log, timeout) != 0) {
    throw std::runtime_error(argv[0] + " " + (argv.size() > 3 ? argv[3] : "") + " failed:\n" + read_file(log));
  }
}

// Starts the program argv_for(port) returns and waits until it listens on `port` — a free port, unless
// `fixed`. A free port can be taken by a parallel test before the program binds it (it then exits); that is
// retried on another port. Returns the process and its port.
std::pair<Process, int> start_listening(const std::function<std::vector<std::string>(int)>& argv_for,
                                        const std::string& log, std::chrono::milliseconds timeout, int fixed = 0) {
  std::string failures;
  for (int attempt = 0; attempt < (fixed != 0 ? 1 : 3); ++attempt) {
    const int port = fixed != 0 ? fixed : free_port();
    const auto argv = argv_for(port);
    Process p(argv, log + "." + std::to_string(attempt));
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline && p.running()) {
      // Still running a moment after the port answers: the listener is ours, not another test's.
      if (wait_for_port(port, 100ms) && p.wait(200ms) == -1) return {std::move(p), port};
    }
    failures += argv[0] + " did not listen on " + std::to_string(port) + ":\n" + p.log_tail(3000) + "\n";
  }
  throw std::runtime_error(failures);
}

// SQLite and fernet keys in the test's directory (TESTING.md recipe).
constexpr const char* kKeystoneConf = R"([DEFAULT]
log_file = @DIR@/keystone.log
[database]
connection = sqlite:///@DIR@/keystone.db
[token]
provider = fernet
expiration = @LIFETIME@
[fernet_tokens]
key_repository = @DIR@/fernet-keys
[credential]
key_repository = @DIR@/credential-keys
)";

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size()))
    text.replace(pos, from.size(), to);
  return text;
}

}  // namespace

Keystone::Keystone(std::chrono::seconds token_lifetime) {
  const std::string d = dir_.path();
  const std::string conf = dir_.file("keystone.conf");
  write_file(conf,
             replace_all(replace_all(kKeystoneConf, "@DIR@", d), "@LIFETIME@", std::to_string(token_lifetime.count())));
  const std::string log = dir_.file("manage.log");
  must_run({"keystone-manage", "--config-file", conf, "db_sync"}, log, 120s);
  // Without WAL, SQLite locks up after a few concurrent writes (TESTING.md).
  must_run({"sqlite3", d + "/keystone.db", "PRAGMA journal_mode=WAL;"}, log);
  for (const char* step : {"fernet_setup", "credential_setup"}) {
    must_run({"keystone-manage", "--config-file", conf, step, "--keystone-user", "root", "--keystone-group", "root"},
             log);
  }
  // The identity endpoint in the catalog is not used by the tests, so uwsgi may end up on another port.
  must_run({"keystone-manage", "--config-file", conf, "bootstrap", "--bootstrap-password", kAdminPassword,
            "--bootstrap-public-url", "http://127.0.0.1:5000/v3/", "--bootstrap-region-id", "RegionOne"},
           log);
  auto [process, port] = start_listening(
      [&conf](int p) {
        return std::vector<std::string>{"uwsgi_python3",
                                        "--http-socket",
                                        "127.0.0.1:" + std::to_string(p),
                                        "--wsgi-file",
                                        "/usr/bin/keystone-wsgi-public",
                                        "--need-app",
                                        "--master",
                                        "--processes",
                                        "1",
                                        "--threads",
                                        "8",
                                        "--enable-threads",
                                        "--buffer-size",
                                        "65535",
                                        "--die-on-term",
                                        "--env",
                                        "OS_KEYSTONE_CONFIG_FILES=" + conf};
      },
      dir_.file("uwsgi.log"), 60s);
  process_ = std::move(process);
  port_ = port;
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
  const int fixed = config.contains("port") ? config["port"].get<int>() : 0;
  auto [process, port] = start_listening(
      [&](int p) {
        config["port"] = p;
        const std::string file = dir_.file("config-" + std::to_string(p) + ".json");
        write_file(file, config.dump(2));
        return std::vector<std::string>{"node", std::string(VNCGATE_EMULATORS_DIR) + "/" + name + ".js", file};
      },
      dir_.file(name + ".log"), 20s, fixed);
  process_ = std::move(process);
  port_ = port;
}

Emulator::~Emulator() { process_.stop(2000ms); }

TokenProxy::TokenProxy() : token_dir_(dir_.file("tokens")) {
  std::filesystem::create_directory(token_dir_);
  auto [process, port] = start_listening(
      [this](int p) {
        return std::vector<std::string>{"websockify",     "--token-plugin", "TokenFile",
                                        "--token-source", token_dir_,       "127.0.0.1:" + std::to_string(p)};
      },
      dir_.file("websockify.log"), 20s);
  process_ = std::move(process);
  port_ = port;
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
  for (const char* name : {"OS_CLOUD",
                           "OS_CLIENT_CONFIG_FILE",
                           "OS_AUTH_URL",
                           "OS_AUTH_TYPE",
                           "OS_TOKEN",
                           "OS_TOKEN_FILE",
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
