// SPDX-License-Identifier: Apache-2.0
// sd_notify's wire protocol as systemd receives it: one datagram per call on $NOTIFY_SOCKET, path or abstract.
#include "service/systemd_notify.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "support/notify_socket.hpp"
#include "support/process.hpp"

namespace vncgate::service {
namespace {

using namespace std::chrono_literals;

class SystemdNotify : public testing::Test {
 protected:
  void TearDown() override { ::unsetenv("NOTIFY_SOCKET"); }
  test::TempDir dir_{"vncgate-notify"};
};

TEST_F(SystemdNotify, SendsOneDatagramToAPathSocket) {
  test::NotifySocket socket(dir_.file("notify"));
  ::setenv("NOTIFY_SOCKET", socket.env_value().c_str(), 1);
  EXPECT_TRUE(systemd_notify("READY=1\nSTATUS=listening on port 8090"));
  EXPECT_TRUE(systemd_notify("STOPPING=1"));
  EXPECT_EQ(socket.receive(2s), "READY=1\nSTATUS=listening on port 8090");
  EXPECT_EQ(socket.receive(2s), "STOPPING=1");
  EXPECT_EQ(socket.receive(50ms), std::nullopt);
}

TEST_F(SystemdNotify, AbstractNamespaceSocket) {
  const std::string name = "@vncgate-notify-test-" + std::to_string(::getpid());
  test::NotifySocket socket(name);
  ::setenv("NOTIFY_SOCKET", name.c_str(), 1);
  EXPECT_TRUE(systemd_notify("READY=1"));
  EXPECT_EQ(socket.receive(2s), "READY=1");
}

TEST_F(SystemdNotify, NothingToDoOrNobodyListening) {
  ::unsetenv("NOTIFY_SOCKET");
  EXPECT_FALSE(systemd_notify("READY=1"));
  ::setenv("NOTIFY_SOCKET", "", 1);
  EXPECT_FALSE(systemd_notify("READY=1"));
  ::setenv("NOTIFY_SOCKET", dir_.file("nobody").c_str(), 1);  // no socket there: an error, not a crash
  EXPECT_FALSE(systemd_notify("READY=1"));
  ::setenv("NOTIFY_SOCKET", "vsock:2:1234", 1);  // a kind of address not supported
  EXPECT_FALSE(systemd_notify("READY=1"));
  ::setenv("NOTIFY_SOCKET", ("/" + std::string(200, 'x')).c_str(), 1);  // longer than sun_path
  EXPECT_FALSE(systemd_notify("READY=1"));
}

}  // namespace
}  // namespace vncgate::service
