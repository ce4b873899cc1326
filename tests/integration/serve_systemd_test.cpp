// SPDX-License-Identifier: Apache-2.0
// `vncgate serve` as systemd runs it (the Type=notify unit of packaging/systemd): READY=1 once it answers,
// RELOADING=1 + READY=1 around a SIGHUP reload that applies log.level and refuses a bad file, STOPPING=1 on
// SIGTERM; and noVNC served from its own directory (server.novnc_dir, Debian's /usr/share/novnc in the package).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>

#include "service_fixture.hpp"
#include "support/notify_socket.hpp"

namespace vncgate::test {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

class ServeSystemd : public testing::Test {
 protected:
  std::string config_file() const { return dir_.file("vncgate.toml"); }
  void write_config(const std::string& level, int port_shift = 0) {
    write_file(config_file(), "[server]\nrequest_timeout_s = " + std::to_string(30 + port_shift) +
                                  "\n[log]\nlevel = \"" + level + "\"\n");
  }
  ServeOptions options(std::vector<std::string> extra = {}) {
    ServeOptions o;
    o.data_dir = dir_.path();
    o.extra_args = {"--config", config_file()};
    o.extra_args.insert(o.extra_args.end(), extra.begin(), extra.end());
    o.env = {{"NOTIFY_SOCKET", notify_.env_value()}};
    return o;
  }

  TempDir dir_{"vncgate-systemd"};
  NotifySocket notify_{dir_.file("notify")};
};

TEST_F(ServeSystemd, ReadyWhenListeningStoppingOnTerm) {
  write_config("info");
  ServeProcess serve(options());
  serve.start();
  std::string seen;
  const auto ready = notify_.wait_for("READY=1", 10s, &seen);
  ASSERT_TRUE(ready) << "no READY=1; got: " << seen << "\n" << serve.log_tail();
  EXPECT_THAT(*ready, HasSubstr("STATUS=listening on port " + std::to_string(serve.port())));
  EXPECT_EQ(serve.request("GET", "/healthz").status, 200);
  ::kill(serve.pid(), SIGTERM);
  EXPECT_TRUE(notify_.wait_for("STOPPING=1", 10s, &seen)) << seen;
  EXPECT_EQ(serve.stop(), 0) << serve.log_tail();
}

TEST_F(ServeSystemd, SighupReloadsLogLevelAndRefusesABadFile) {
  write_config("info");
  ServeProcess serve(options());
  serve.start();
  ASSERT_TRUE(notify_.wait_for("READY=1", 10s));

  write_config("warn", 1);  // log.level applies; [server] changed: named for the next restart
  ::kill(serve.pid(), SIGHUP);
  std::string seen;
  ASSERT_TRUE(notify_.wait_for("RELOADING=1", 10s, &seen)) << seen;
  ASSERT_TRUE(notify_.wait_for("READY=1", 10s, &seen)) << seen;
  EXPECT_THAT(serve.log_tail(), HasSubstr("configuration reloaded, log.level = warn (was info)"));
  EXPECT_THAT(serve.log_tail(), HasSubstr("[server] changed; these take effect at the next restart"));

  // At warn, the next reload's info lines are gone; its error about a bad file is not, and the service goes on.
  write_file(config_file(), "[server]\nrequest_timeout_s = \"soon\"\n");
  ::kill(serve.pid(), SIGHUP);
  // The refusal is logged before READY=1 is sent again; the log file is the ordering that counts here.
  wait_for_file_contains(serve.log_file(), "reload refused", 10s);
  // A refused reload still ends with READY=1; take it now, or the next reload's wait would find this stale one.
  ASSERT_TRUE(notify_.wait_for("READY=1", 10s, &seen)) << seen;
  const auto log = serve.log_tail(20000);
  EXPECT_THAT(log, HasSubstr("reload refused, the running configuration stays: server.request_timeout_s"));
  EXPECT_EQ(log.find("SIGHUP, reloading"), log.rfind("SIGHUP, reloading")) << "info line logged at warn:\n" << log;
  EXPECT_TRUE(serve.running());
  EXPECT_EQ(serve.request("GET", "/healthz").status, 200);

  // Back to a more verbose level: the line saying so is not hidden by the quieter one it replaces.
  write_config("info");
  ::kill(serve.pid(), SIGHUP);
  ASSERT_TRUE(notify_.wait_for("RELOADING=1", 10s, &seen)) << seen;
  ASSERT_TRUE(notify_.wait_for("READY=1", 10s, &seen)) << seen;
  EXPECT_THAT(serve.log_tail(), HasSubstr("configuration reloaded, log.level = info (was warn)"));
  EXPECT_EQ(serve.stop(), 0) << serve.log_tail();
}

TEST_F(ServeSystemd, NovncFromItsOwnDirectory) {
  // A web root without novnc/ (as the package installs it) and noVNC from Debian's package.
  const auto web = dir_.file("web");
  std::filesystem::create_directories(web + "/static");
  write_file(web + "/index.html", "<!doctype html><title>t</title>");
  write_config("info");
  ServeProcess serve(options({"--web-root", web, "--set", "server.novnc_dir=/usr/share/novnc"}));
  serve.start();
  const auto rfb = serve.request("GET", "/novnc/core/rfb.js");
  EXPECT_EQ(rfb.status, 200);
  EXPECT_EQ(rfb.body, read_file("/usr/share/novnc/core/rfb.js"));
  EXPECT_EQ(serve.request("GET", "/novnc/vendor/pako/lib/zlib/inflate.js").status, 200);
  // Only core/ and vendor/: the package's own app and pages are not ours to serve.
  EXPECT_EQ(serve.request("GET", "/novnc/vnc.html").status, 404);
  EXPECT_EQ(serve.request("GET", "/novnc/app/ui.js").status, 404);
  EXPECT_EQ(serve.request("GET", "/novnc/core/../../../etc/passwd").status, 400);
  EXPECT_EQ(serve.request("GET", "/").status, 200);
}

}  // namespace
}  // namespace vncgate::test
