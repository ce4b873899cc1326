// SPDX-License-Identifier: Apache-2.0
// proxmox:NODE/qemu|lxc/VMID and proxmox:NODE/node end to end: the Proxmox emulator (HTTPS with a self-signed
// certificate, tokens, tickets + CSRF, privileges) sets a one-time VNC password on a QEMU guest over QMP and relays
// one WebSocket connection to it; the snapshot equals QEMU's own screendump. Error paths: TLS verification and
// pinning, wrong secrets, 403, unknown/stopped guests, a console port used twice or too late.
#include <gtest/gtest.h>

#include <memory>
#include <thread>

#include "http/http_client.hpp"
#include "integration/providers_fixture.hpp"
#include "providers/provider_set.hpp"
#include "providers/proxmox/proxmox_provider.hpp"
#include "rfb/blocking_client.hpp"
#include "support/image.hpp"
#include "support/qemu.hpp"
#include "util/error.hpp"

namespace vncgate::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kTokenId = "vncgate@pve!console";
constexpr const char* kTokenSecret = "3f5a7c1e-1b2d-4e6f-8a9b-0c1d2e3f4a5b";
constexpr auto kPortTtl = 3s;    // Proxmox waits ~10 s; shorter here so the expiry test is quick
constexpr auto kTicketTtl = 4s;  // Proxmox tickets last 2 h; short here to see a re-login

class ProxmoxProvider : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>("vncgate-proxmox");
    const std::string cert = dir_->file("cert.pem"), key = dir_->file("key.pem");
    // A self-signed certificate like a fresh Proxmox node's (pve-ssl.pem), valid for 127.0.0.1.
    if (run_command({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                     "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=pve1", "-addext",
                     "subjectAltName=IP:127.0.0.1,DNS:localhost"},
                    dir_->file("openssl.log")) != 0) {
      throw std::runtime_error("openssl req failed: " + read_file(dir_->file("openssl.log")));
    }
    run_command({"openssl", "x509", "-in", cert, "-noout", "-fingerprint", "-sha256"}, dir_->file("fp.txt"));
    const std::string fp = read_file(dir_->file("fp.txt"));
    fingerprint_ = fp.substr(fp.find('=') + 1, 95);

    QemuOptions options;
    options.password = true;
    const std::string qmp = dir_->file("emulator-qmp.sock");
    options.extra_args = {"-qmp", "unix:" + qmp + ",server,nowait"};
    guest_ = std::make_unique<QemuGuest>(options);
    const nlohmann::json console_privs{"VM.Console", "Sys.Console"};
    emulator_ = std::make_unique<Emulator>(
        "proxmox_emulator",
        nlohmann::json{{"tls", {{"cert", cert}, {"key", key}}},
                       {"qmp_socket", qmp},
                       {"vnc_port", guest_->port()},
                       {"node", "pve1"},
                       {"port_ttl_ms", std::chrono::milliseconds(kPortTtl).count()},
                       {"ticket_ttl_ms", std::chrono::milliseconds(kTicketTtl).count()},
                       {"guests", {{"qemu", {{"100", "running"}, {"101", "stopped"}}}, {"lxc", {{"200", "running"}}}}},
                       {"users",
                        {{"root@pam", {{"password", "pve-root-pw"}, {"privs", console_privs}}},
                         {"auditor@pve", {{"password", "audit-pw"}, {"privs", {"VM.Audit"}}}}}},
                       {"tokens",
                        {{kTokenId, {{"secret", kTokenSecret}, {"privs", console_privs}}},
                         {"vncgate@pve!audit", {{"secret", "0000-audit"}, {"privs", {"VM.Audit"}}}}}}});
    url_ = "https://127.0.0.1:" + std::to_string(emulator_->port());
  }
  static void TearDownTestSuite() {
    emulator_.reset();
    guest_.reset();
    dir_.reset();
  }

  static Env token_env(const std::string& secret = kTokenSecret) {
    return {{"PROXMOX_URL", url_},
            {"PROXMOX_TOKEN_ID", kTokenId},
            {"PROXMOX_TOKEN_SECRET", secret},
            {"PROXMOX_FINGERPRINT", fingerprint_}};
  }
  int snapshot(const std::string& target, const Env& env, const std::string& png = "") {
    return run_vncgate({"snapshot", target, png.empty() ? out_.file("x.png") : png, "-v"}, env, out_.file("out.log"));
  }
  std::string log() const { return read_file(out_.file("out.log")); }
  void expect_log(const std::string& text) { EXPECT_NE(log().find(text), std::string::npos) << log(); }

  static providers::proxmox::ProxmoxSettings token_settings() {
    providers::proxmox::ProxmoxSettings s;
    s.url = url_;
    s.token_id = kTokenId;
    s.token_secret = kTokenSecret;
    s.tls.sha256_fingerprint = fingerprint_;
    return s;
  }

  static std::unique_ptr<TempDir> dir_;
  static std::unique_ptr<QemuGuest> guest_;
  static std::unique_ptr<Emulator> emulator_;
  static std::string url_, fingerprint_;
  TempDir out_{"vncgate-proxmox-out"};
};
std::unique_ptr<TempDir> ProxmoxProvider::dir_;
std::unique_ptr<QemuGuest> ProxmoxProvider::guest_;
std::unique_ptr<Emulator> ProxmoxProvider::emulator_;
std::string ProxmoxProvider::url_, ProxmoxProvider::fingerprint_;

TEST_F(ProxmoxProvider, Snapshot_ApiTokenWithPinnedCertificate_QemuLxcNode_EqualScreendump) {
  for (const char* target : {"proxmox:pve1/qemu/100", "proxmox:pve1/lxc/200", "proxmox:pve1/node"}) {
    const auto png = out_.file("shot.png");
    ASSERT_EQ(snapshot(target, token_env(), png), 0) << target << "\n" << log() << emulator_->log();
    EXPECT_EQ(diff_summary(guest_->screendump(), load_png(png)), "") << target;
    EXPECT_EQ(log().find(kTokenSecret), std::string::npos) << "token secret leaked into the log";
    EXPECT_EQ(log().find("vncticket="), std::string::npos) << "VNC ticket leaked into the log";
  }
}

TEST_F(ProxmoxProvider, Snapshot_TicketLoginWithCsrf_AndCaFile) {
  const auto png = out_.file("ticket.png");
  ASSERT_EQ(snapshot("proxmox:pve1/qemu/100",
                     {{"PROXMOX_URL", url_},
                      {"PROXMOX_USER", "root@pam"},
                      {"PROXMOX_PASSWORD", "pve-root-pw"},
                      {"PROXMOX_CA_FILE", dir_->file("cert.pem")}},
                     png),
            0)
      << log() << emulator_->log();
  EXPECT_EQ(diff_summary(guest_->screendump(), load_png(png)), "");
}

TEST_F(ProxmoxProvider, Tls_SelfSignedWithoutPinOrCa_AndWrongPin_Exit3) {
  EXPECT_EQ(snapshot("proxmox:pve1/qemu/100",
                     {{"PROXMOX_URL", url_}, {"PROXMOX_TOKEN_ID", kTokenId}, {"PROXMOX_TOKEN_SECRET", kTokenSecret}}),
            3);
  expect_log("self-signed");
  // Pinned to some other certificate.
  auto env = token_env();
  std::erase_if(env, [](const auto& e) { return e.first == "PROXMOX_FINGERPRINT"; });
  std::string wrong = "AB";
  for (int i = 1; i < 32; ++i) wrong += ":AB";
  env.emplace_back("PROXMOX_FINGERPRINT", wrong);
  EXPECT_EQ(snapshot("proxmox:pve1/qemu/100", env), 3);
  expect_log("certificate fingerprint mismatch");
}

TEST_F(ProxmoxProvider, WrongSecretOrPassword_Exit3) {
  EXPECT_EQ(snapshot("proxmox:pve1/qemu/100", token_env("not-the-secret")), 3);
  expect_log("401 invalid token value!");
  EXPECT_EQ(log().find("not-the-secret"), std::string::npos);
  EXPECT_EQ(snapshot("proxmox:pve1/qemu/100", {{"PROXMOX_URL", url_},
                                               {"PROXMOX_USER", "root@pam"},
                                               {"PROXMOX_PASSWORD", "wrong"},
                                               {"PROXMOX_FINGERPRINT", fingerprint_}}),
            3);
  expect_log("Proxmox login as root@pam refused: 401 authentication failure");
}

TEST_F(ProxmoxProvider, MissingPrivilege_403_NamesPathAndPrivilege) {
  auto env = token_env("0000-audit");
  std::erase_if(env, [](const auto& e) { return e.first == "PROXMOX_TOKEN_ID"; });
  env.emplace_back("PROXMOX_TOKEN_ID", "vncgate@pve!audit");
  EXPECT_EQ(snapshot("proxmox:pve1/qemu/100", env), 3);
  expect_log("Proxmox vncproxy for proxmox pve1/qemu/100: 403 Permission check failed (/vms/100, VM.Console)");
  EXPECT_EQ(snapshot("proxmox:pve1/node", {{"PROXMOX_URL", url_},
                                           {"PROXMOX_USER", "auditor@pve"},
                                           {"PROXMOX_PASSWORD", "audit-pw"},
                                           {"PROXMOX_FINGERPRINT", fingerprint_}}),
            3);
  expect_log("Proxmox vncshell for proxmox node shell pve1: 403 Permission check failed (/nodes/pve1, Sys.Console)");
}

TEST_F(ProxmoxProvider, UnknownOrStoppedGuest_Exit3_WithProxmoxReason) {
  EXPECT_EQ(snapshot("proxmox:pve1/qemu/999", token_env()), 3);
  expect_log("qemu-server/999.conf' does not exist");
  EXPECT_EQ(snapshot("proxmox:pve1/qemu/101", token_env()), 3);
  expect_log("VM 101 not running");
  EXPECT_EQ(snapshot("proxmox:pve9/lxc/200", token_env()), 3);
  expect_log("hostname lookup 'pve9' failed");
}

TEST_F(ProxmoxProvider, ConsolePort_AcceptsOneConnection_ThenRefuses_AndExpires) {
  providers::proxmox::ProxmoxProvider provider(token_settings());
  const auto target = *providers::parse_target("proxmox:pve1/qemu/100");
  auto console = providers::acquire_blocking(provider, target);
  EXPECT_EQ(console.password.size(), 8u);  // generate-password=1: a separate one-time VNC password
  rfb::ClientOptions options;
  options.password = console.password;
  {
    rfb::BlockingClient client(console.endpoint, options, 10s);
    client.full_update(10s);
  }
  try {
    rfb::BlockingClient again(console.endpoint, options, 10s);
    FAIL() << "the console port accepted a second connection";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("already used or expired"), std::string::npos) << e.what();
  }
  // Acquired too early: the port is gone by the time the client connects.
  auto stale = providers::acquire_blocking(provider, target);
  std::this_thread::sleep_for(kPortTtl + 500ms);
  options.password = stale.password;
  EXPECT_THROW(rfb::BlockingClient(stale.endpoint, options, 10s), IoError);
  // A fresh acquire right before connecting works again.
  auto fresh = providers::acquire_blocking(provider, target);
  options.password = fresh.password;
  EXPECT_NO_THROW(rfb::BlockingClient(fresh.endpoint, options, 10s).full_update(10s));
}

TEST_F(ProxmoxProvider, ExpiredTicket_401_LogsInAgainOnce) {
  auto settings = token_settings();
  settings.token_id.clear();
  settings.username = "root@pam";
  settings.password = "pve-root-pw";
  providers::proxmox::ProxmoxProvider provider(settings);
  const auto target = *providers::parse_target("proxmox:pve1/lxc/200");
  ASSERT_NO_THROW(providers::acquire_blocking(provider, target));
  std::this_thread::sleep_for(kTicketTtl + 500ms);
  auto console = providers::acquire_blocking(provider, target);  // 401 with the old ticket, then a new login
  rfb::ClientOptions options;
  options.password = console.password;  // LXC consoles: the VNC ticket is the password
  EXPECT_NO_THROW(rfb::BlockingClient(console.endpoint, options, 10s).full_update(10s));
}

TEST_F(ProxmoxProvider, Emulator_IsStrict_CsrfAndUnknownParameters) {
  // Ticket cookie without the CSRF token on a POST: refused, as pveproxy does.
  http::Request login;
  login.method = "POST";
  login.url = url_ + "/api2/json/access/ticket";
  login.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  login.body = "username=root%40pam&password=pve-root-pw";
  login.tls.sha256_fingerprint = fingerprint_;
  const auto ticket = providers::proxmox::parse_ticket(http::send_blocking(login).body);
  http::Request proxy = login;
  proxy.url = url_ + "/api2/json/nodes/pve1/qemu/100/vncproxy";
  proxy.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                   {"Cookie", "PVEAuthCookie=" + http::percent_encode(ticket.ticket)}};
  proxy.body = "websocket=1";
  auto r = http::send_blocking(proxy);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.reason, "Permission denied - invalid csrf token");
  proxy.headers.emplace_back("CSRFPreventionToken", ticket.csrf_token);
  proxy.body = "websocket=1&bogus=1";
  r = http::send_blocking(proxy);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("\"bogus\""), std::string::npos) << r.body;
}

}  // namespace
}  // namespace vncgate::test
