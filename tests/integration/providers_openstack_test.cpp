// SPDX-License-Identifier: Apache-2.0
// openstack:SERVER_ID end to end: real Keystone → Nova emulator (validates tokens against that Keystone) →
// websockify token proxy → QEMU guest; the snapshot equals QEMU's own screendump. Error paths: wrong password or
// secret, policy 403, 404, 409, region ambiguity, revoked and expired tokens (401 → one re-authentication).
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <thread>

#include "http/http_client.hpp"
#include "integration/providers_fixture.hpp"
#include "providers/openstack/nova_provider.hpp"
#include "providers/provider_set.hpp"
#include "support/image.hpp"
#include "support/qemu.hpp"
#include "util/error.hpp"

namespace vncgate::test {
namespace {

using namespace std::chrono_literals;

// Short token lifetime so expiry can be observed; each CLI run takes well under a second of it.
constexpr auto kTokenLifetime = 12s;

class OpenStackProvider : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    QemuOptions options;
    guest_ = std::make_unique<QemuGuest>(options);
    proxy_ = std::make_unique<TokenProxy>();
    keystone_ = std::make_unique<Keystone>(kTokenLifetime);
    const int nova_port = free_port(), legacy_port = free_port();
    const auto& ids = keystone_->populate("http://127.0.0.1:" + std::to_string(nova_port) + "/v2.1",
                                          "http://127.0.0.1:" + std::to_string(legacy_port) + "/v2.1");
    const std::string vnc = "127.0.0.1:" + std::to_string(guest_->port());
    nlohmann::json servers{{"3f0c2b8e-1d4a-4c8e-9b0f-2a6d5e7c9a11",
                            {{"project_id", ids["project_id"]}, {"vm_state", "active"}, {"vnc", vnc}}},
                           {"stopped-1", {{"project_id", ids["project_id"]}, {"vm_state", "stopped"}, {"vnc", vnc}}},
                           {"other-project", {{"project_id", "0000"}, {"vm_state", "active"}, {"vnc", vnc}}}};
    nlohmann::json base{
        {"keystone_url", keystone_->url()},
        {"service", {{"username", "admin"}, {"password", Keystone::kAdminPassword}, {"project", "admin"}}},
        {"token_dir", proxy_->token_dir()},
        {"console_base", proxy_->base_url()},
        {"servers", servers}};
    auto current = base;
    current["port"] = nova_port;
    nova_ = std::make_unique<Emulator>("nova_emulator", current);
    // RegionTwo: a Liberty-era cloud without microversion 2.6, for the legacy fallback.
    auto legacy = base;
    legacy["port"] = legacy_port;
    legacy["max_microversion"] = "2.5";
    legacy_nova_ = std::make_unique<Emulator>("nova_emulator", legacy);
  }
  static void TearDownTestSuite() {
    legacy_nova_.reset();
    nova_.reset();
    keystone_.reset();
    proxy_.reset();
    guest_.reset();
  }

  static Env password_env(const std::string& user = "demo", const std::string& password = "demo-pw") {
    return {{"OS_AUTH_URL", keystone_->url()},  {"OS_USERNAME", user},       {"OS_PASSWORD", password},
            {"OS_USER_DOMAIN_NAME", "Default"}, {"OS_PROJECT_NAME", "demo"}, {"OS_PROJECT_DOMAIN_ID", "default"},
            {"OS_REGION_NAME", "RegionOne"}};
  }
  int snapshot(const std::string& server, const Env& env, const std::string& png = "") {
    return run_vncgate({"snapshot", "openstack:" + server, png.empty() ? dir_.file("x.png") : png, "-v"}, env,
                       dir_.file("out.log"));
  }
  std::string log() const { return read_file(dir_.file("out.log")); }
  void expect_log(const std::string& text) { EXPECT_NE(log().find(text), std::string::npos) << log(); }

  static providers::openstack::NovaSettings direct_settings(const std::string& compute_region = "RegionOne") {
    providers::openstack::NovaSettings s;
    s.keystone.auth_url = keystone_->url();
    s.keystone.username = "demo";
    s.keystone.password = "demo-pw";
    s.keystone.project_name = "demo";
    s.keystone.region_name = compute_region;
    return s;
  }

  // The session's current token id (fetching one when none is cached).
  static std::string cached_token(providers::openstack::NovaProvider& provider) {
    boost::asio::io_context ctx;
    std::string id;
    boost::asio::co_spawn(ctx, provider.session().token(), [&](std::exception_ptr e, providers::openstack::Token t) {
      if (!e) id = t.id;
    });
    ctx.run();
    return id;
  }

  static constexpr const char* kServer = "3f0c2b8e-1d4a-4c8e-9b0f-2a6d5e7c9a11";
  static std::unique_ptr<QemuGuest> guest_;
  static std::unique_ptr<TokenProxy> proxy_;
  static std::unique_ptr<Keystone> keystone_;
  static std::unique_ptr<Emulator> nova_, legacy_nova_;
  TempDir dir_{"vncgate-openstack"};
};
std::unique_ptr<QemuGuest> OpenStackProvider::guest_;
std::unique_ptr<TokenProxy> OpenStackProvider::proxy_;
std::unique_ptr<Keystone> OpenStackProvider::keystone_;
std::unique_ptr<Emulator> OpenStackProvider::nova_, OpenStackProvider::legacy_nova_;

TEST_F(OpenStackProvider, Snapshot_PasswordAuth_EqualsQemuScreendump) {
  const auto png = dir_.file("pw.png");
  ASSERT_EQ(snapshot(kServer, password_env(), png), 0) << log() << nova_->log();
  EXPECT_EQ(diff_summary(guest_->screendump(), load_png(png)), "");
  EXPECT_EQ(log().find("demo-pw"), std::string::npos) << "password leaked into the log";
  EXPECT_EQ(log().find("token="), std::string::npos) << "console token leaked into the log";
}

TEST_F(OpenStackProvider, Snapshot_ApplicationCredential_ById_AndByNameWithUser) {
  const auto& ids = keystone_->ids();
  const auto secret = ids["app_cred_secret"].get<std::string>();
  const auto png = dir_.file("ac.png");
  ASSERT_EQ(snapshot(kServer,
                     {{"OS_AUTH_URL", keystone_->url()},
                      {"OS_APPLICATION_CREDENTIAL_ID", ids["app_cred_id"]},
                      {"OS_APPLICATION_CREDENTIAL_SECRET", secret},
                      {"OS_REGION_NAME", "RegionOne"},
                      {"OS_INTERFACE", "internal"}},
                     png),
            0)
      << log();
  EXPECT_EQ(diff_summary(guest_->screendump(), load_png(png)), "");
  // By name, with the secret in a file.
  write_file(dir_.file("secret"), secret + "\n");
  EXPECT_EQ(snapshot(kServer, {{"OS_AUTH_URL", keystone_->url()},
                               {"OS_APPLICATION_CREDENTIAL_NAME", "vncgate"},
                               {"OS_APPLICATION_CREDENTIAL_SECRET_FILE", dir_.file("secret")},
                               {"OS_USER_ID", ids["demo_user_id"]},
                               {"OS_REGION_NAME", "RegionOne"}}),
            0)
      << log();
}

TEST_F(OpenStackProvider, CloudsYaml_OsCloudSelectsTheEntry) {
  const auto& ids = keystone_->ids();
  write_file(dir_.file("clouds.yaml"),
             "clouds:\n  test:\n    auth:\n      auth_url: " + keystone_->url() +
                 "\n      application_credential_id: " + ids["app_cred_id"].get<std::string>() +
                 "\n      application_credential_secret: " + ids["app_cred_secret"].get<std::string>() +
                 "\n    region_name: RegionOne\n");
  EXPECT_EQ(snapshot(kServer, {{"OS_CLOUD", "test"}, {"OS_CLIENT_CONFIG_FILE", dir_.file("clouds.yaml")}}), 0) << log();
}

TEST_F(OpenStackProvider, AuthType_PicksTheMethod_WhenBothMethodsAreInTheEnvironment) {
  // Two openrc files sourced one after the other: OS_AUTH_TYPE decides, the other method's variables are ignored.
  const auto& ids = keystone_->ids();
  auto both = [&](const std::string& type, const std::string& password, const std::string& secret) {
    auto env = password_env("demo", password);
    env.emplace_back("OS_AUTH_TYPE", type);
    env.emplace_back("OS_APPLICATION_CREDENTIAL_ID", ids["app_cred_id"]);
    env.emplace_back("OS_APPLICATION_CREDENTIAL_NAME", "vncgate");
    env.emplace_back("OS_APPLICATION_CREDENTIAL_SECRET", secret);
    return env;
  };
  const auto secret = ids["app_cred_secret"].get<std::string>();
  // The reported case: only the name is left over from the application credential's openrc.
  auto env = password_env();
  env.emplace_back("OS_AUTH_TYPE", "password");
  env.emplace_back("OS_APPLICATION_CREDENTIAL_NAME", "vncgate");
  const auto png = dir_.file("type.png");
  ASSERT_EQ(snapshot(kServer, env, png), 0) << log();
  EXPECT_EQ(diff_summary(guest_->screendump(), load_png(png)), "");
  // A wrong value in the method not chosen does not matter; the chosen one is really used.
  EXPECT_EQ(snapshot(kServer, both("v3password", "demo-pw", "wrong-secret")), 0) << log();
  EXPECT_EQ(snapshot(kServer, both("v3applicationcredential", "wrong-password", secret)), 0) << log();
  EXPECT_EQ(snapshot(kServer, both("v3password", "wrong-password", secret)), 3);
  expect_log("rejected the credentials of user 'demo'");
  EXPECT_EQ(snapshot(kServer, both("v3applicationcredential", "demo-pw", "wrong-secret")), 3);
  expect_log("rejected the credentials of application credential");
  // Contradictory or unknown settings are config errors (exit 2) naming what to set.
  EXPECT_EQ(snapshot(kServer, both("v3applicationcredential", "demo-pw", "")), 2);
  expect_log("OS_AUTH_TYPE is v3applicationcredential: set OS_APPLICATION_CREDENTIAL_SECRET");
  EXPECT_EQ(snapshot(kServer, both("v3totp", "demo-pw", secret)), 2);
  expect_log("auth type 'v3totp' (OS_AUTH_TYPE) is not supported");
  EXPECT_EQ(snapshot(kServer, both("", "demo-pw", secret)), 2);
  expect_log("OS_APPLICATION_CREDENTIAL_SECRET and OS_PASSWORD are set; set OS_AUTH_TYPE");
}

TEST_F(OpenStackProvider, TokenAuth_RescopesAnExistingToken) {
  // OS_TOKEN from an earlier login (here: the demo user's own session), with both other methods' variables
  // present and wrong: the token alone gets the console.
  providers::openstack::NovaProvider login(direct_settings());
  const std::string token = cached_token(login);
  ASSERT_FALSE(token.empty());
  auto env = password_env("demo", "wrong-password");
  env.emplace_back("OS_AUTH_TYPE", "v3token");
  env.emplace_back("OS_TOKEN", token);
  env.emplace_back("OS_APPLICATION_CREDENTIAL_ID", keystone_->ids()["app_cred_id"]);
  env.emplace_back("OS_APPLICATION_CREDENTIAL_SECRET", "wrong-secret");
  const auto png = dir_.file("token.png");
  ASSERT_EQ(snapshot(kServer, env, png), 0) << log() << nova_->log();
  EXPECT_EQ(diff_summary(guest_->screendump(), load_png(png)), "");
  EXPECT_EQ(log().find(token), std::string::npos) << "token leaked into the log";
  // Inferred from OS_TOKEN alone (in a file), no auth type.
  write_file(dir_.file("token"), token + "\n");
  EXPECT_EQ(snapshot(kServer, {{"OS_AUTH_URL", keystone_->url()},
                               {"OS_TOKEN_FILE", dir_.file("token")},
                               {"OS_PROJECT_NAME", "demo"},
                               {"OS_REGION_NAME", "RegionOne"}}),
            0)
      << log();
  // A token Keystone does not know.
  env = {{"OS_AUTH_URL", keystone_->url()},
         {"OS_AUTH_TYPE", "token"},
         {"OS_TOKEN", "gAAAAABnot-a-real-token"},
         {"OS_PROJECT_NAME", "demo"},
         {"OS_REGION_NAME", "RegionOne"}};
  EXPECT_EQ(snapshot(kServer, env), 3);
  expect_log("the token in OS_TOKEN");
}

TEST_F(OpenStackProvider, AccessRules_ConsoleOnlyCredentialWorks_OthersAreRefused) {
  // The least-privilege application credential from docs/providers.md; Nova (here: the emulator, as
  // keystonemiddleware) enforces its access rules.
  const auto& ids = keystone_->ids();
  auto cred_env = [&](const std::string& prefix) {
    return Env{{"OS_AUTH_URL", keystone_->url()},
               {"OS_APPLICATION_CREDENTIAL_ID", ids[prefix + "_cred_id"]},
               {"OS_APPLICATION_CREDENTIAL_SECRET", ids[prefix + "_cred_secret"]},
               {"OS_REGION_NAME", "RegionOne"}};
  };
  EXPECT_EQ(snapshot(kServer, cred_env("console")), 0) << log();
  EXPECT_EQ(snapshot(kServer, cred_env("list")), 3);
  expect_log("create remote console: 401");
  expect_log("token refused after re-authentication");
}

TEST_F(OpenStackProvider, WrongPasswordOrSecret_Exit3_NamingKeystone) {
  EXPECT_EQ(snapshot(kServer, password_env("demo", "not-the-password")), 3);
  expect_log("Keystone");
  expect_log("rejected the credentials of user 'demo'");
  EXPECT_EQ(log().find("not-the-password"), std::string::npos);
  EXPECT_EQ(snapshot(kServer, {{"OS_AUTH_URL", keystone_->url()},
                               {"OS_APPLICATION_CREDENTIAL_ID", keystone_->ids()["app_cred_id"]},
                               {"OS_APPLICATION_CREDENTIAL_SECRET", "wrong-secret"}}),
            3);
  expect_log("rejected the credentials of application credential");
}

TEST_F(OpenStackProvider, NovaRefusals_403_404_409_NameServerAndStep) {
  EXPECT_EQ(snapshot(kServer, password_env("viewer", "viewer-pw")), 3);
  expect_log("OpenStack server " + std::string(kServer) + ": create remote console: 403");
  expect_log("os_compute_api:os-remote-consoles");
  EXPECT_EQ(snapshot("no-such-server", password_env()), 3);
  expect_log("OpenStack server no-such-server: create remote console: 404");
  EXPECT_EQ(snapshot("other-project", password_env()), 3);  // other projects' servers do not exist for demo
  expect_log("404");
  EXPECT_EQ(snapshot("stopped-1", password_env()), 3);
  expect_log("409");
  expect_log("vm_state stopped");
}

TEST_F(OpenStackProvider, CatalogWithTwoRegions_NeedsRegion_AndMissingSettingsAreNamed) {
  auto env = password_env();
  std::erase_if(env, [](const auto& e) { return e.first == "OS_REGION_NAME"; });
  EXPECT_EQ(snapshot(kServer, env), 3);
  expect_log("set OS_REGION_NAME");
  EXPECT_EQ(snapshot(kServer, {{"OS_AUTH_URL", keystone_->url()}, {"OS_USERNAME", "demo"}}), 2);
  expect_log("OS_PASSWORD");
}

TEST_F(OpenStackProvider, LegacyCloud_FallsBackToOsGetVncConsole_TokenInQuery) {
  // RegionTwo's compute endpoint is a cloud without microversion 2.6: 406, then the os-getVNCConsole action,
  // whose URL carries ?token= directly.
  auto env = password_env();
  env.emplace_back("OS_REGION_NAME", "RegionTwo");
  std::erase_if(env, [](const auto& e) { return e.first == "OS_REGION_NAME" && e.second == "RegionOne"; });
  const auto png = dir_.file("legacy.png");
  ASSERT_EQ(snapshot(kServer, env, png), 0) << log() << legacy_nova_->log();
  expect_log("legacy os-getVNCConsole");
  EXPECT_EQ(diff_summary(guest_->screendump(), load_png(png)), "");
}

TEST_F(OpenStackProvider, RevokedToken_Nova401_ReauthenticatesOnce) {
  providers::openstack::NovaProvider provider(direct_settings());
  const auto target = *providers::parse_target(std::string("openstack:") + kServer);
  const auto first = providers::acquire_blocking(provider, target);
  ASSERT_EQ(first.endpoint.headers.size(), 1u);
  EXPECT_EQ(first.endpoint.headers[0], (std::pair<std::string, std::string>{"Origin", proxy_->base_url()}));
  const std::string old_token = cached_token(provider);

  // Revoke the cached token the way an operator would: DELETE /v3/auth/tokens with an admin token.
  providers::openstack::KeystoneSettings admin;
  admin.auth_url = keystone_->url();
  admin.username = "admin";
  admin.password = Keystone::kAdminPassword;
  admin.project_name = "admin";
  providers::openstack::NovaProvider admin_provider(providers::openstack::NovaSettings{admin, {}, 10s});
  http::Request revoke;
  revoke.method = "DELETE";
  revoke.url = keystone_->url() + "/auth/tokens";
  revoke.headers = {{"X-Auth-Token", cached_token(admin_provider)}, {"X-Subject-Token", old_token}};
  ASSERT_EQ(http::send_blocking(revoke).status, 204);

  // Nova answers 401 for the revoked token; the provider logs in again once and succeeds.
  const auto again = providers::acquire_blocking(provider, target);
  EXPECT_NE(again.endpoint.url, first.endpoint.url);  // a new console token
  EXPECT_NE(cached_token(provider), old_token);
}

TEST_F(OpenStackProvider, ExpiredToken_StillCached_Nova401_Reauthenticates) {
  // A negative margin keeps the token past its real expiry, as a host with a slow clock would; Keystone then
  // refuses it, Nova answers 401, and the provider re-authenticates once.
  auto settings = direct_settings();
  settings.keystone.expiry_margin = -3600s;
  providers::openstack::NovaProvider provider(settings);
  const auto target = *providers::parse_target(std::string("openstack:") + kServer);
  ASSERT_NO_THROW(providers::acquire_blocking(provider, target));
  const std::string old_token = cached_token(provider);
  std::this_thread::sleep_for(kTokenLifetime + 2s);
  EXPECT_EQ(cached_token(provider), old_token);  // still cached: the provider did not notice the expiry itself
  EXPECT_NO_THROW(providers::acquire_blocking(provider, target));
  EXPECT_NE(cached_token(provider), old_token);
}

TEST_F(OpenStackProvider, ValidToken_IsReused_NotFetchedPerConsole) {
  // The default 120 s margin exceeds this suite's 12 s tokens; the session shrinks it to half the lifetime.
  providers::openstack::NovaProvider provider(direct_settings());
  const auto target = *providers::parse_target(std::string("openstack:") + kServer);
  providers::acquire_blocking(provider, target);
  const std::string token = cached_token(provider);
  providers::acquire_blocking(provider, target);
  EXPECT_EQ(cached_token(provider), token);
}

}  // namespace
}  // namespace vncgate::test
