// SPDX-License-Identifier: Apache-2.0
// `vncgate snapshot` as a user runs it: the PNG equals QEMU's own screendump, and every failure class maps to
// its documented exit code (0 ok, 2 usage, 3 connect/auth, 4 protocol) with a message that says what happened.
#include <gtest/gtest.h>

#include <memory>

#include "support/image.hpp"
#include "support/process.hpp"
#include "support/qemu.hpp"

namespace vncgate::test {
namespace {

using namespace std::chrono_literals;

class CliSnapshot : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    QemuOptions options;
    options.password = true;
    guest_ = std::make_unique<QemuGuest>(options);
    guest_->change_vnc_password("secret12");
  }
  static void TearDownTestSuite() { guest_.reset(); }

  // Runs `vncgate ARGS…`; returns the exit code, output in log().
  int run(std::vector<std::string> args) {
    args.insert(args.begin(), VNCGATE_BINARY);
    return run_command(args, dir_.file("out.log"), 60s);
  }
  std::string log() const { return read_file(dir_.file("out.log")); }
  std::string password_file(const std::string& password) {
    write_file(dir_.file("pw"), password + "\n");
    return dir_.file("pw");
  }

  static std::unique_ptr<QemuGuest> guest_;
  TempDir dir_{"vncgate-cli"};
};
std::unique_ptr<QemuGuest> CliSnapshot::guest_;

TEST_F(CliSnapshot, PngEqualsQemuScreendump) {
  for (const char* encodings : {"zrle", "tight", "hextile"}) {
    const auto png = dir_.file(std::string(encodings) + ".png");
    ASSERT_EQ(run({"snapshot", guest_->vnc_url(), png, "--password-file", password_file("secret12"), "--encodings",
                   encodings}),
              0)
        << log();
    // The static guest does not change its screen, so the first complete frame is the screendump.
    EXPECT_EQ(diff_summary(guest_->screendump(), load_png(png)), "") << encodings;
  }
}

TEST_F(CliSnapshot, WrongPasswordExits3WithServerReason) {
  EXPECT_EQ(run({"snapshot", guest_->vnc_url(), dir_.file("x.png"), "--password-file", password_file("wrong")}), 3);
  EXPECT_NE(log().find("Authentication failed"), std::string::npos) << log();
  EXPECT_EQ(log().find("wrong"), std::string::npos) << "password leaked into the log";
}

TEST_F(CliSnapshot, ConnectionRefusedExits3) {
  const int port = free_port();
  EXPECT_EQ(run({"snapshot", "vnc://127.0.0.1:" + std::to_string(port), dir_.file("x.png"), "--timeout", "5"}), 3);
  EXPECT_NE(log().find("Connection refused"), std::string::npos) << log();
}

TEST_F(CliSnapshot, NonRfbServerExits4) {
  const int port = free_port();
  Process http({"socat", "TCP-LISTEN:" + std::to_string(port) + ",bind=127.0.0.1,reuseaddr,fork",
                "SYSTEM:echo HTTP/1.1 400 Bad Request"},
               dir_.file("socat.log"));
  ASSERT_TRUE(wait_for_port(port, 5s));
  EXPECT_EQ(run({"snapshot", "vnc://127.0.0.1:" + std::to_string(port), dir_.file("x.png"), "--timeout", "5"}), 4);
  EXPECT_NE(log().find("not an RFB server"), std::string::npos) << log();
}

TEST_F(CliSnapshot, UsageErrorsExit2) {
  EXPECT_EQ(run({"snapshot"}), 2);
  EXPECT_EQ(run({"snapshot", "ftp://host/", dir_.file("x.png")}), 2);
  EXPECT_NE(log().find("bad target"), std::string::npos) << log();
  EXPECT_EQ(run({"snapshot", guest_->vnc_url(), dir_.file("x.png"), "--encodings", "bogus"}), 2);
  EXPECT_NE(log().find("unknown encoding 'bogus'"), std::string::npos) << log();
  EXPECT_EQ(run({"frobnicate"}), 2);
}

}  // namespace
}  // namespace vncgate::test
