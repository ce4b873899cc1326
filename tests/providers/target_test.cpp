// SPDX-License-Identifier: Apache-2.0
#include "providers/target.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "providers/direct/direct_provider.hpp"
#include "providers/provider_set.hpp"
#include "util/error.hpp"

namespace vncgate::providers {
namespace {

TEST(Target, Parse_OpenStackServerId) {
  auto t = parse_target("openstack:6f1d9a1e-0b7c-4a52-9a3e-1f2b3c4d5e6f");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->kind, TargetKind::openstack);
  EXPECT_EQ(t->server_id, "6f1d9a1e-0b7c-4a52-9a3e-1f2b3c4d5e6f");
  EXPECT_FALSE(parse_target("openstack:"));
  EXPECT_FALSE(parse_target("openstack:../../admin"));
  EXPECT_FALSE(parse_target("openstack:a?b"));
}

TEST(Target, Parse_ProxmoxQemuLxcNode) {
  auto q = parse_target("proxmox:pve1/qemu/100");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->kind, TargetKind::proxmox);
  EXPECT_EQ(q->node, "pve1");
  EXPECT_EQ(q->guest, ProxmoxGuest::qemu);
  EXPECT_EQ(q->vmid, "100");
  EXPECT_EQ(q->describe(), "proxmox pve1/qemu/100");
  auto l = parse_target("proxmox:pve-2.lab/lxc/999999999");
  ASSERT_TRUE(l);
  EXPECT_EQ(l->guest, ProxmoxGuest::lxc);
  auto n = parse_target("proxmox:pve1/node");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->guest, ProxmoxGuest::node);
  EXPECT_EQ(n->describe(), "proxmox node shell pve1");
}

TEST(Target, Parse_RejectsMalformedProxmox) {
  std::string error;
  for (const char* bad : {"proxmox:", "proxmox:pve1", "proxmox:pve1/qemu", "proxmox:pve1/qemu/99",
                          "proxmox:pve1/qemu/0100", "proxmox:pve1/qemu/1000000000", "proxmox:pve1/vm/100",
                          "proxmox:pve1/node/1", "proxmox:pve 1/qemu/100", "proxmox:pve1/qemu/100/x"}) {
    EXPECT_FALSE(parse_target(bad, &error)) << bad;
  }
  EXPECT_NE(error.find("proxmox:NODE/qemu/VMID"), std::string::npos);
}

TEST(Target, Parse_DirectUrlsAndUnknownSchemes) {
  auto d = parse_target("ws://127.0.0.1:6080/?token=abc");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->kind, TargetKind::direct);
  EXPECT_EQ(d->describe(), "ws://127.0.0.1:6080/?\xE2\x80\xA6");
  std::string error;
  EXPECT_FALSE(parse_target("ftp://host/", &error));
  EXPECT_NE(error.find("openstack:SERVER_ID"), std::string::npos);
}

TEST(AllowList, Default_AllowsLoopbackOnly) {
  AllowList allow;
  EXPECT_TRUE(allow.allows_address("127.0.0.1"));
  EXPECT_TRUE(allow.allows_address("127.255.0.9"));
  EXPECT_TRUE(allow.allows_address("::1"));
  EXPECT_TRUE(allow.allows_address("::ffff:127.0.0.1"));
  EXPECT_TRUE(allow.allows_name("LOCALHOST"));
  EXPECT_FALSE(allow.allows_address("10.0.0.1"));
  EXPECT_FALSE(allow.allows_address("::2"));
  EXPECT_FALSE(allow.allows_address("::ffff:10.0.0.1"));
  EXPECT_FALSE(allow.allows_name("example.com"));
}

TEST(AllowList, Add_CidrsAddressesNames) {
  AllowList allow;
  allow.add("10.20.0.0/16");
  allow.add("fd00::/8");
  allow.add("192.0.2.7");
  allow.add("vnc.example.com");
  EXPECT_TRUE(allow.allows_address("10.20.255.1"));
  EXPECT_FALSE(allow.allows_address("10.21.0.1"));
  EXPECT_TRUE(allow.allows_address("fd12::1"));
  EXPECT_FALSE(allow.allows_address("fe80::1"));
  EXPECT_TRUE(allow.allows_address("192.0.2.7"));
  EXPECT_FALSE(allow.allows_address("192.0.2.8"));
  EXPECT_TRUE(allow.allows_name("vnc.example.com"));
  EXPECT_THROW(allow.add("10.0.0.0/33"), ConfigError);
  EXPECT_THROW(allow.add("bad host/8"), ConfigError);
  EXPECT_THROW(allow.add("10.0.0.0/"), ConfigError);
}

TEST(DirectProvider, Acquire_PassesAllowedUrlAndPassword_RefusesOthers) {
  DirectSettings settings;
  settings.password = "fromfile";
  DirectProvider provider(settings);
  Target t = *parse_target("vnc://:inurl@127.0.0.1:5901");
  auto console = acquire_blocking(provider, t);
  EXPECT_EQ(console.endpoint.url, "vnc://:inurl@127.0.0.1:5901");
  EXPECT_EQ(console.password, "fromfile");  // --password-file beats the URL, as before providers existed
  DirectProvider no_file(DirectSettings{});
  EXPECT_EQ(acquire_blocking(no_file, t).password, "inurl");
  Target far = *parse_target("vnc://192.0.2.1:5900");
  try {
    acquire_blocking(provider, far);
    FAIL() << "not refused";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("allow-list"), std::string::npos);
  }
  EXPECT_NO_THROW(acquire_blocking(provider, *parse_target("ws://localhost:6080/?token=x")));
}

TEST(ProviderSet, CloudTargets_WithoutSettings_NameTheMissingVariable) {
  ProviderSet set(DirectSettings{}, [](const char*) -> const char* { return nullptr; });
  try {
    acquire_blocking(set, *parse_target("openstack:abc"));
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("OS_AUTH_URL"), std::string::npos);
  }
  try {
    acquire_blocking(set, *parse_target("proxmox:pve1/qemu/100"));
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("PROXMOX_URL"), std::string::npos);
  }
}

}  // namespace
}  // namespace vncgate::providers
