// SPDX-License-Identifier: Apache-2.0
// Keystone/Nova parsing against real-shaped answers (captured from Keystone Zed and Nova's API reference).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "providers/openstack/clouds_yaml.hpp"
#include "providers/openstack/keystone.hpp"
#include "providers/openstack/nova_provider.hpp"
#include "util/error.hpp"

namespace vncgate::providers::openstack {
namespace {

Getenv env_of(std::map<std::string, std::string> vars) {
  auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
  return [shared](const char* name) -> const char* {
    auto it = shared->find(name);
    return it == shared->end() ? nullptr : it->second.c_str();
  };
}

// A Keystone v3 token response body, trimmed (real tokens also carry roles, methods, audit_ids, …).
constexpr const char* kTokenBody = R"({"token": {"methods": ["password"], "user": {"domain": {"id": "default",
  "name": "Default"}, "id": "5f9a", "name": "demo", "password_expires_at": null}, "audit_ids": ["x"],
  "expires_at": "2026-11-26T07:20:00.000000Z", "issued_at": "2026-11-26T06:20:00.000000Z",
  "project": {"domain": {"id": "default", "name": "Default"}, "id": "8c1e", "name": "demo"}, "is_domain": false,
  "roles": [{"id": "r1", "name": "member"}],
  "catalog": [
   {"endpoints": [{"id": "e1", "interface": "public", "region_id": "RegionOne", "url": "http://127.0.0.1:5000/v3/", "region": "RegionOne"}],
    "id": "s1", "type": "identity", "name": "keystone"},
   {"endpoints": [
     {"id": "e2", "interface": "public", "region_id": "RegionOne", "url": "https://nova-one.example/v2.1/", "region": "RegionOne"},
     {"id": "e3", "interface": "internal", "region_id": "RegionOne", "url": "http://10.0.0.5:8774/v2.1", "region": "RegionOne"},
     {"id": "e4", "interface": "public", "region_id": "RegionTwo", "url": "https://nova-two.example/v2.1", "region": "RegionTwo"}],
    "id": "s2", "type": "compute", "name": "nova"}]}})";

TEST(Keystone, ParseToken_ReadsSubjectTokenExpiryAndCatalog) {
  const Token t = parse_token("gAAAAABn-token", kTokenBody);
  EXPECT_EQ(t.id, "gAAAAABn-token");
  EXPECT_EQ(Clock::to_time_t(t.expires_at), 1795677600);  // 2026-11-26T07:20:00Z
  EXPECT_EQ(t.catalog.size(), 2u);
  EXPECT_THROW(parse_token("", kTokenBody), ProviderError);
  EXPECT_THROW(parse_token("x", R"({"token": {"expires_at": "soon"}})"), ProviderError);
  EXPECT_THROW(parse_token("x", "<html>"), ProviderError);
}

TEST(Keystone, ParseIso8601_AcceptsKeystoneForms) {
  EXPECT_EQ(Clock::to_time_t(*parse_iso8601("1970-01-02T00:00:00Z")), 86400);
  EXPECT_EQ(Clock::to_time_t(*parse_iso8601("1970-01-02T00:00:01.123456Z")), 86401);
  EXPECT_EQ(Clock::to_time_t(*parse_iso8601("1970-01-02T00:00:02")), 86402);
  EXPECT_FALSE(parse_iso8601("1970-01-02T00:00:00+02:00"));
  EXPECT_FALSE(parse_iso8601("tomorrow"));
}

TEST(Keystone, SelectEndpoint_ByRegionAndInterface) {
  const auto catalog = parse_token("t", kTokenBody).catalog;
  EXPECT_EQ(select_endpoint(catalog, "compute", "RegionOne", "public"), "https://nova-one.example/v2.1");
  EXPECT_EQ(select_endpoint(catalog, "compute", "RegionOne", "internal"), "http://10.0.0.5:8774/v2.1");
  EXPECT_EQ(select_endpoint(catalog, "compute", "RegionTwo", "public"), "https://nova-two.example/v2.1");
  EXPECT_EQ(select_endpoint(catalog, "compute", "", "internal"), "http://10.0.0.5:8774/v2.1");
  std::string error;
  EXPECT_FALSE(select_endpoint(catalog, "compute", "", "public", &error));
  EXPECT_NE(error.find("OS_REGION_NAME"), std::string::npos) << error;
  EXPECT_FALSE(select_endpoint(catalog, "compute", "RegionTwo", "admin", &error));
  EXPECT_NE(error.find("regions: RegionOne, RegionTwo"), std::string::npos) << error;
  EXPECT_FALSE(select_endpoint(catalog, "image", "", "public", &error));
  EXPECT_NE(error.find("no 'image' service"), std::string::npos);
  EXPECT_FALSE(select_endpoint(nlohmann::json(), "compute", "", "public", &error));
}

TEST(Keystone, AuthRequest_PasswordWithNamesAndDomains) {
  auto s = KeystoneSettings::from_env(env_of({{"OS_AUTH_URL", "http://k:5000/v3"},
                                              {"OS_USERNAME", "demo"},
                                              {"OS_PASSWORD", "pw"},
                                              {"OS_USER_DOMAIN_NAME", "Default"},
                                              {"OS_PROJECT_NAME", "demo"},
                                              {"OS_PROJECT_DOMAIN_ID", "default"},
                                              {"OS_ENDPOINT_TYPE", "internalURL"},
                                              {"OS_INSECURE", "true"}}));
  EXPECT_EQ(s.interface, "internal");
  EXPECT_TRUE(s.tls.insecure);
  EXPECT_EQ(auth_request(s), nlohmann::json::parse(R"({"auth": {
    "identity": {"methods": ["password"], "password": {"user": {"name": "demo", "domain": {"name": "Default"},
                 "password": "pw"}}},
    "scope": {"project": {"name": "demo", "domain": {"id": "default"}}}}})"));
}

TEST(Keystone, AuthRequest_PasswordWithIds) {
  auto s = KeystoneSettings::from_env(
      env_of({{"OS_AUTH_URL", "http://k:5000"}, {"OS_USER_ID", "u1"}, {"OS_PASSWORD", "pw"}, {"OS_TENANT_ID", "p1"}}));
  EXPECT_EQ(auth_request(s), nlohmann::json::parse(R"({"auth": {
    "identity": {"methods": ["password"], "password": {"user": {"id": "u1", "password": "pw"}}},
    "scope": {"project": {"id": "p1"}}}})"));
}

TEST(Keystone, AuthRequest_ApplicationCredentialByIdOrName) {
  auto by_id = KeystoneSettings::from_env(env_of({{"OS_AUTH_URL", "http://k/v3"},
                                                  {"OS_APPLICATION_CREDENTIAL_ID", "ac1"},
                                                  {"OS_APPLICATION_CREDENTIAL_SECRET", "s3"},
                                                  {"OS_PROJECT_NAME", "ignored"}}));
  EXPECT_EQ(auth_request(by_id), nlohmann::json::parse(R"({"auth": {"identity": {
    "methods": ["application_credential"], "application_credential": {"id": "ac1", "secret": "s3"}}}})"));
  auto by_name = KeystoneSettings::from_env(env_of({{"OS_AUTH_URL", "http://k/v3"},
                                                    {"OS_APPLICATION_CREDENTIAL_NAME", "vncgate"},
                                                    {"OS_APPLICATION_CREDENTIAL_SECRET", "s3"},
                                                    {"OS_USERNAME", "demo"},
                                                    {"OS_DEFAULT_DOMAIN", "dom1"}}));
  EXPECT_EQ(auth_request(by_name), nlohmann::json::parse(R"({"auth": {"identity": {
    "methods": ["application_credential"], "application_credential": {"name": "vncgate", "secret": "s3",
    "user": {"name": "demo", "domain": {"id": "dom1"}}}}}})"));
}

TEST(Keystone, AuthRequest_MissingSettings_NameTheVariable) {
  auto expect_config_error = [](std::map<std::string, std::string> vars, const std::string& needle) {
    try {
      auth_request(KeystoneSettings::from_env(env_of(std::move(vars))));
      ADD_FAILURE() << "no error for " << needle;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_config_error({}, "OS_AUTH_URL");
  expect_config_error({{"OS_AUTH_URL", "http://k"}}, "OS_USERNAME");
  expect_config_error({{"OS_AUTH_URL", "http://k"}, {"OS_USERNAME", "u"}}, "OS_PASSWORD");
  expect_config_error({{"OS_AUTH_URL", "http://k"}, {"OS_USERNAME", "u"}, {"OS_PASSWORD", "p"}}, "OS_PROJECT_NAME");
  expect_config_error({{"OS_AUTH_URL", "http://k"}, {"OS_APPLICATION_CREDENTIAL_ID", "a"}},
                      "OS_APPLICATION_CREDENTIAL_SECRET");
}

// Two openrc files sourced one after the other: a password one and an application credential one.
std::map<std::string, std::string> both_methods(std::map<std::string, std::string> extra = {}) {
  std::map<std::string, std::string> vars{{"OS_AUTH_URL", "http://k/v3"},
                                          {"OS_USERNAME", "demo"},
                                          {"OS_PASSWORD", "pw"},
                                          {"OS_PROJECT_NAME", "demo"},
                                          {"OS_APPLICATION_CREDENTIAL_ID", "ac1"},
                                          {"OS_APPLICATION_CREDENTIAL_NAME", "vncgate"},
                                          {"OS_APPLICATION_CREDENTIAL_SECRET", "s3"},
                                          {"OS_TOKEN", "gAAAA-tok"}};
  for (auto& [k, v] : extra) vars[k] = v;
  return vars;
}

nlohmann::json request_for(std::map<std::string, std::string> vars) {
  return auth_request(KeystoneSettings::from_env(env_of(std::move(vars))));
}

std::string config_error_of(std::map<std::string, std::string> vars) {
  try {
    request_for(std::move(vars));
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(KeystoneAuthType, Password_IgnoresApplicationCredentialName) {
  // The reported case: OS_AUTH_TYPE=password with OS_APPLICATION_CREDENTIAL_NAME left over from another openrc.
  const auto body = request_for({{"OS_AUTH_URL", "http://k/v3"},
                                 {"OS_AUTH_TYPE", "password"},
                                 {"OS_USERNAME", "demo"},
                                 {"OS_PASSWORD", "pw"},
                                 {"OS_PROJECT_NAME", "demo"},
                                 {"OS_APPLICATION_CREDENTIAL_NAME", "vncgate"}});
  EXPECT_EQ(body["auth"]["identity"]["methods"], nlohmann::json::array({"password"}));
  EXPECT_EQ(body["auth"]["identity"]["password"]["user"]["name"], "demo");
  EXPECT_EQ(body["auth"]["scope"]["project"]["name"], "demo");
}

TEST(KeystoneAuthType, EachTypeUsesOnlyItsOwnVariables) {
  for (const char* type : {"password", "v3password", "V3Password"}) {
    const auto body = request_for(both_methods({{"OS_AUTH_TYPE", type}}));
    EXPECT_EQ(body, nlohmann::json::parse(R"({"auth": {
      "identity": {"methods": ["password"], "password": {"user": {"name": "demo", "domain": {"id": "default"},
                   "password": "pw"}}},
      "scope": {"project": {"name": "demo", "domain": {"id": "default"}}}}})"))
        << type;
  }
  EXPECT_EQ(request_for(both_methods({{"OS_AUTH_TYPE", "v3applicationcredential"}})),
            nlohmann::json::parse(R"({"auth": {"identity": {"methods": ["application_credential"],
              "application_credential": {"id": "ac1", "secret": "s3"}}}})"));
  for (const char* type : {"token", "v3token"}) {
    EXPECT_EQ(request_for(both_methods({{"OS_AUTH_TYPE", type}})), nlohmann::json::parse(R"({"auth": {
      "identity": {"methods": ["token"], "token": {"id": "gAAAA-tok"}},
      "scope": {"project": {"name": "demo", "domain": {"id": "default"}}}}})"))
        << type;
  }
}

TEST(KeystoneAuthType, Inferred_FromTheOneSecretThatIsSet) {
  auto method_of = [](std::map<std::string, std::string> vars) {
    return auth_method(KeystoneSettings::from_env(env_of(std::move(vars))));
  };
  EXPECT_EQ(method_of({{"OS_PASSWORD", "pw"}, {"OS_APPLICATION_CREDENTIAL_NAME", "vncgate"}}), AuthMethod::password);
  EXPECT_EQ(method_of({{"OS_USERNAME", "u"}, {"OS_APPLICATION_CREDENTIAL_SECRET", "s"}}),
            AuthMethod::application_credential);
  EXPECT_EQ(method_of({{"OS_TOKEN", "t"}, {"OS_USERNAME", "u"}}), AuthMethod::token);
  EXPECT_EQ(method_of({{"OS_APPLICATION_CREDENTIAL_ID", "a"}}), AuthMethod::application_credential);
  EXPECT_EQ(method_of({{"OS_USERNAME", "u"}}), AuthMethod::password);
  // Two secrets and no auth type: ask instead of guessing.
  const auto error = config_error_of(both_methods());
  EXPECT_NE(error.find("OS_APPLICATION_CREDENTIAL_SECRET and OS_TOKEN and OS_PASSWORD are set; set OS_AUTH_TYPE"),
            std::string::npos)
      << error;
  EXPECT_NE(
      config_error_of(both_methods({{"OS_TOKEN", ""}, {"OS_APPLICATION_CREDENTIAL_SECRET", ""}})).find("(no error)"),
      std::string::npos);
}

TEST(KeystoneAuthType, Contradictions_NameTheTypeAndTheVariable) {
  auto vars = both_methods({{"OS_AUTH_TYPE", "v3applicationcredential"}, {"OS_APPLICATION_CREDENTIAL_SECRET", ""}});
  EXPECT_NE(
      config_error_of(vars).find("OS_AUTH_TYPE is v3applicationcredential: set OS_APPLICATION_CREDENTIAL_SECRET (or "
                                 "OS_APPLICATION_CREDENTIAL_SECRET_FILE)"),
      std::string::npos)
      << config_error_of(vars);
  vars = both_methods({{"OS_AUTH_TYPE", "v3applicationcredential"},
                       {"OS_APPLICATION_CREDENTIAL_ID", ""},
                       {"OS_APPLICATION_CREDENTIAL_NAME", ""}});
  EXPECT_NE(config_error_of(vars).find("OS_AUTH_TYPE is v3applicationcredential: set OS_APPLICATION_CREDENTIAL_ID"),
            std::string::npos)
      << config_error_of(vars);
  vars = both_methods({{"OS_AUTH_TYPE", "v3token"}, {"OS_TOKEN", ""}});
  EXPECT_NE(config_error_of(vars).find("OS_AUTH_TYPE is v3token: set OS_TOKEN"), std::string::npos)
      << config_error_of(vars);
  vars = both_methods({{"OS_AUTH_TYPE", "v3token"}, {"OS_PROJECT_NAME", ""}});
  EXPECT_NE(config_error_of(vars).find("OS_AUTH_TYPE is v3token: set OS_PROJECT_NAME or OS_PROJECT_ID"),
            std::string::npos)
      << config_error_of(vars);
  vars = both_methods({{"OS_AUTH_TYPE", "password"}, {"OS_PASSWORD", ""}});
  EXPECT_NE(config_error_of(vars).find("OS_AUTH_TYPE is password: set OS_PASSWORD"), std::string::npos)
      << config_error_of(vars);
}

TEST(KeystoneAuthType, UnknownOrUnsupported_ConfigError) {
  EXPECT_NE(config_error_of(both_methods({{"OS_AUTH_TYPE", "pasword"}}))
                .find("unknown auth type 'pasword' (OS_AUTH_TYPE); use password, "),
            std::string::npos);
  EXPECT_NE(config_error_of(both_methods({{"OS_AUTH_TYPE", "v3totp"}}))
                .find("auth type 'v3totp' (OS_AUTH_TYPE) is not supported by vncgate"),
            std::string::npos);
  EXPECT_NE(config_error_of(both_methods({{"OS_AUTH_TYPE", "v2password"}})).find("not supported"), std::string::npos);
}

TEST(CloudsYaml, ParseYaml_MappingsSequencesQuotedScalars) {
  const auto json = parse_yaml(
      "clouds:\n  a:\n    auth: {auth_url: 'https://k:5000/v3', password: \"p: w#1\"}\n"
      "    regions: [One, Two]\n    verify: false  # comment\n",
      "test");
  EXPECT_EQ(json["clouds"]["a"]["auth"]["password"], "p: w#1");
  EXPECT_EQ(json["clouds"]["a"]["regions"][1], "Two");
  EXPECT_EQ(json["clouds"]["a"]["verify"], "false");
  try {
    parse_yaml("clouds:\n  a: [unclosed\n", "my.yaml");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("my.yaml:"), std::string::npos) << e.what();
  }
}

// A 600-byte clouds.yaml of nested aliases once took 2.8 GB and aborted: the shared loader caps the walk.
TEST(CloudsYaml, AliasBombIsRefused) {
  std::string text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 9; ++i)
    text += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [*a" + std::to_string(i - 1) + ", *a" +
            std::to_string(i - 1) + ", *a" + std::to_string(i - 1) + ", *a" + std::to_string(i - 1) + ", *a" +
            std::to_string(i - 1) + ", *a" + std::to_string(i - 1) + ", *a" + std::to_string(i - 1) + ", *a" +
            std::to_string(i - 1) + ", *a" + std::to_string(i - 1) + ", *a" + std::to_string(i - 1) + "]\n";
  text += "clouds: *a8\n";
  try {
    parse_yaml(text, "clouds.yaml");
    FAIL() << "10^9 nodes were walked";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("too large"), std::string::npos) << e.what();
  }
}

TEST(CloudsYaml, OsCloud_ReadsEntry_EnvironmentOverrides) {
  const auto path = std::filesystem::temp_directory_path() / ("vncgate-clouds-" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(path) << R"(clouds:
  prod:
    auth:
      auth_url: https://keystone.example:5000/v3
      application_credential_id: "ac1"
      application_credential_secret: "s3cr3t"
    region_name: RegionOne
    interface: internal
    cacert: /etc/ssl/cloud-ca.pem
  lab:
    auth: {auth_url: 'http://lab:5000', username: demo, password: pw, project_name: demo, user_domain_name: Default,
           project_domain_name: Default}
    verify: false
)";
  const std::string file = path.string();
  auto s = KeystoneSettings::from_env(
      env_of({{"OS_CLOUD", "prod"}, {"OS_CLIENT_CONFIG_FILE", file}, {"OS_REGION_NAME", "RegionTwo"}}));
  EXPECT_EQ(s.auth_url, "https://keystone.example:5000/v3");
  EXPECT_EQ(s.application_credential_id, "ac1");
  EXPECT_EQ(s.application_credential_secret, "s3cr3t");
  EXPECT_EQ(s.region_name, "RegionTwo");  // the environment wins
  EXPECT_EQ(s.interface, "internal");
  EXPECT_EQ(s.tls.ca_file, "/etc/ssl/cloud-ca.pem");
  EXPECT_FALSE(s.tls.insecure);
  auto lab = KeystoneSettings::from_env(env_of({{"OS_CLOUD", "lab"}, {"OS_CLIENT_CONFIG_FILE", file}}));
  EXPECT_EQ(auth_request(lab)["auth"]["scope"]["project"]["domain"]["name"], "Default");
  EXPECT_TRUE(lab.tls.insecure);
  EXPECT_THROW(KeystoneSettings::from_env(env_of({{"OS_CLOUD", "nope"}, {"OS_CLIENT_CONFIG_FILE", file}})),
               ConfigError);
  std::filesystem::remove(path);
}

TEST(CloudsYaml, AuthType_ChoosesTheMethod_OsAuthTypeOverrides) {
  const auto path =
      std::filesystem::temp_directory_path() / ("vncgate-clouds-type-" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(path) << R"(clouds:
  both:
    auth_type: v3password
    auth: {auth_url: 'http://k:5000', username: demo, password: pw, project_name: demo,
           application_credential_id: ac1, application_credential_secret: s3, token: tok}
  odd:
    auth_type: v3oidcpassword
    auth: {auth_url: 'http://k:5000', username: demo, password: pw}
)";
  const std::string file = path.string();
  auto both = KeystoneSettings::from_env(env_of({{"OS_CLOUD", "both"}, {"OS_CLIENT_CONFIG_FILE", file}}));
  EXPECT_EQ(auth_method(both), AuthMethod::password);
  EXPECT_EQ(both.token, "tok");
  auto overridden = KeystoneSettings::from_env(
      env_of({{"OS_CLOUD", "both"}, {"OS_CLIENT_CONFIG_FILE", file}, {"OS_AUTH_TYPE", "v3token"}}));
  EXPECT_EQ(auth_request(overridden)["auth"]["identity"]["token"]["id"], "tok");
  try {
    auth_request(KeystoneSettings::from_env(env_of({{"OS_CLOUD", "odd"}, {"OS_CLIENT_CONFIG_FILE", file}})));
    ADD_FAILURE() << "v3oidcpassword accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("auth type 'v3oidcpassword' (auth_type of cloud 'odd' in " + file +
                                         ") is not supported"),
              std::string::npos)
        << e.what();
  }
  std::filesystem::remove(path);
}

TEST(NovaConsoleUrl, CurrentShape_PathParameterNestsTheToken) {
  // Nova ≥ Stein with noVNC 1.x: vnc_lite.html?path=%3Ftoken%3D<uuid>
  auto ws = console_websocket("https://console.example:6080/vnc_lite.html?path=%3Ftoken%3D7c6e2bd1-aaaa");
  ASSERT_TRUE(ws);
  EXPECT_EQ(ws->url, "wss://console.example:6080/?token=7c6e2bd1-aaaa");
  EXPECT_EQ(ws->origin, "https://console.example:6080");
  auto prefixed = console_websocket("http://127.0.0.1:6080/vnc_auto.html?path=websockify%3Ftoken%3Dabc&title=x");
  ASSERT_TRUE(prefixed);
  EXPECT_EQ(prefixed->url, "ws://127.0.0.1:6080/websockify?token=abc");
  EXPECT_EQ(prefixed->origin, "http://127.0.0.1:6080");
}

TEST(NovaConsoleUrl, LegacyShape_TokenParameter) {
  auto ws = console_websocket("https://cloud.example/vnc_auto.html?token=0f9e8d7c");
  ASSERT_TRUE(ws);
  EXPECT_EQ(ws->url, "wss://cloud.example/?token=0f9e8d7c");
  EXPECT_EQ(ws->origin, "https://cloud.example");
}

TEST(NovaConsoleUrl, Malformed_Rejected) {
  std::string error;
  EXPECT_FALSE(console_websocket("http://h/vnc_auto.html", &error));
  EXPECT_NE(error.find("no token"), std::string::npos);
  EXPECT_FALSE(console_websocket("http://h/vnc_auto.html?path=%3Fx%3D1", &error));
  EXPECT_FALSE(console_websocket("http://h/vnc_auto.html?path=%zz", &error));
  EXPECT_FALSE(console_websocket("http://h/vnc_auto.html?token=", &error));
  EXPECT_FALSE(console_websocket("spice://h/?token=x", &error));
}

}  // namespace
}  // namespace vncgate::providers::openstack
