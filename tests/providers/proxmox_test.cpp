// SPDX-License-Identifier: Apache-2.0
// Proxmox parsing against real-shaped answers (PVE 8 API viewer and captured pveproxy responses).
#include <gtest/gtest.h>

#include "providers/proxmox/proxmox_provider.hpp"
#include "util/error.hpp"

namespace vncgate::providers::proxmox {
namespace {

TEST(Proxmox, ApiTokenHeader_HasPveShape) {
  EXPECT_EQ(api_token_header("vncgate@pve!console", "3f5a7c1e-1b2d-4e6f-8a9b-0c1d2e3f4a5b"),
            "PVEAPIToken=vncgate@pve!console=3f5a7c1e-1b2d-4e6f-8a9b-0c1d2e3f4a5b");
  for (const char* bad :
       {"vncgate", "vncgate@pve", "vncgate!console", "@pve!x", "vncgate@!x", "vncgate@pve!", "a=b@pve!c"}) {
    EXPECT_THROW(api_token_header(bad, "secret"), ConfigError) << bad;
  }
  EXPECT_THROW(api_token_header("vncgate@pve!console", ""), ConfigError);
  EXPECT_THROW(api_token_header("vncgate@pve!console", "a\r\nX-Evil: 1"), ConfigError);
}

TEST(Proxmox, ParseTicket_FromAccessTicketAnswer) {
  const auto t = parse_ticket(R"({"data":{"username":"root@pam","cap":{"vms":{"VM.Console":1}},
    "ticket":"PVE:root@pam:6565A1B2::c2lnbmF0dXJl","CSRFPreventionToken":"6565A1B2:Y3NyZg"}})");
  EXPECT_EQ(t.ticket, "PVE:root@pam:6565A1B2::c2lnbmF0dXJl");
  EXPECT_EQ(t.csrf_token, "6565A1B2:Y3NyZg");
  EXPECT_EQ(t.username, "root@pam");
  EXPECT_THROW(parse_ticket(R"({"data":null})"), ProviderError);
  EXPECT_THROW(parse_ticket(R"({"data":{"ticket":"x"}})"), ProviderError);
}

TEST(Proxmox, ParseVncProxy_PortAsStringOrNumber_PasswordOptional) {
  const auto q = parse_vncproxy(R"({"data":{"cert":"-----BEGIN CERTIFICATE-----\n...","port":"5900",
    "ticket":"PVEVNC:6565A1B2::dGlja2V0","upid":"UPID:pve1:0000ABCD:vncproxy:100:root@pam:","user":"root@pam",
    "password":"h7Kq2xZp"}})");
  EXPECT_EQ(q.port, "5900");
  EXPECT_EQ(q.password, "h7Kq2xZp");
  EXPECT_EQ(q.user, "root@pam");
  const auto l = parse_vncproxy(R"({"data":{"port":5901,"ticket":"PVEVNC:1::x","user":"root@pam"}})");
  EXPECT_EQ(l.port, "5901");
  EXPECT_EQ(l.password, "");
  EXPECT_THROW(parse_vncproxy(R"({"data":{"port":"59a","ticket":"x"}})"), ProviderError);
  EXPECT_THROW(parse_vncproxy(R"({"data":{"port":"5900"}})"), ProviderError);
}

TEST(Proxmox, Paths_ForQemuLxcAndNodeShell) {
  const VncProxy p{"5900", "PVEVNC:6565A1B2::a+b/c=", "", "root@pam"};
  const Target q{.kind = TargetKind::proxmox, .node = "pve1", .guest = ProxmoxGuest::qemu, .vmid = "100"};
  const Target l{.kind = TargetKind::proxmox, .node = "pve1", .guest = ProxmoxGuest::lxc, .vmid = "200"};
  const Target n{.kind = TargetKind::proxmox, .node = "pve1", .guest = ProxmoxGuest::node};
  EXPECT_EQ(vncproxy_path(q), "/api2/json/nodes/pve1/qemu/100/vncproxy");
  EXPECT_EQ(vncproxy_path(l), "/api2/json/nodes/pve1/lxc/200/vncproxy");
  EXPECT_EQ(vncproxy_path(n), "/api2/json/nodes/pve1/vncshell");
  EXPECT_EQ(vncwebsocket_path(q, p),
            "/api2/json/nodes/pve1/qemu/100/vncwebsocket?port=5900&vncticket=PVEVNC%3A6565A1B2%3A%3Aa%2Bb%2Fc%3D");
  EXPECT_EQ(vncwebsocket_path(n, p).substr(0, 40), "/api2/json/nodes/pve1/vncwebsocket?port=");
}

TEST(Proxmox, Settings_NeedUrlAndCredentials) {
  ProxmoxSettings s;
  EXPECT_THROW(ProxmoxProvider{s}, ConfigError);
  s.url = "https://pve1:8006";
  EXPECT_THROW(ProxmoxProvider{s}, ConfigError);
  s.username = "root@pam";
  EXPECT_THROW(ProxmoxProvider{s}, ConfigError);  // no password
  s.password = "pw";
  EXPECT_NO_THROW(ProxmoxProvider{s});
  s.token_id = "bad";
  s.token_secret = "x";
  EXPECT_THROW(ProxmoxProvider{s}, ConfigError);
}

}  // namespace
}  // namespace vncgate::providers::proxmox
