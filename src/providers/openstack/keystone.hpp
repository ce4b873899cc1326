// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "io/endpoint.hpp"
#include "providers/api_error.hpp"

namespace vncgate::providers::openstack {

namespace asio = boost::asio;
using Clock = std::chrono::system_clock;

// How vncgate logs in to Keystone: keystoneauth's v3password, v3applicationcredential and v3token plugins.
enum class AuthMethod { password, application_credential, token };

// Keystone v3 credentials and where to find the compute API, named as in openrc files (OS_* variables).
// A password (user name + user domain, or user id; project name + project domain, or project id), an
// application credential (id + secret, or name + secret + user), or an existing token rescoped to the project.
struct KeystoneSettings {
  std::string auth_url;  // e.g. https://keystone:5000/v3 ("/v3" is added when missing)
  // As keystoneauth names it (OS_AUTH_TYPE, clouds.yaml auth_type): password, v3password,
  // v3applicationcredential, token, v3token. Empty: inferred from the secret that is set (auth_method()).
  std::string auth_type;
  std::string auth_type_origin = "OS_AUTH_TYPE";  // where auth_type came from, for messages
  std::string username, user_id, password, user_domain_name, user_domain_id;
  std::string project_name, project_id, project_domain_name, project_domain_id;
  std::string application_credential_id, application_credential_name, application_credential_secret;
  std::string token;                 // OS_TOKEN: a token of the user, exchanged for a project-scoped one
  std::string region_name;           // empty: the catalog must have one region for the service
  std::string interface = "public";  // public, internal or admin
  io::TlsOptions tls;
  std::chrono::seconds expiry_margin{120};  // renew a cached token this long before it expires
  std::chrono::milliseconds timeout{30000};

  // OS_AUTH_URL, OS_AUTH_TYPE, OS_USERNAME, OS_USER_ID, OS_PASSWORD(_FILE), OS_USER_DOMAIN_NAME/_ID,
  // OS_PROJECT_NAME/_ID (OS_TENANT_NAME/_ID), OS_PROJECT_DOMAIN_NAME/_ID, OS_DEFAULT_DOMAIN,
  // OS_APPLICATION_CREDENTIAL_ID/_NAME/ _SECRET(_FILE), OS_TOKEN(_FILE), OS_REGION_NAME, OS_INTERFACE
  // (OS_ENDPOINT_TYPE), OS_CACERT, OS_INSECURE. With OS_CLOUD, that cloud's clouds.yaml entry comes first and the
  // variables that are set override it.
  static KeystoneSettings from_env(const Getenv& getenv);
};

// The method auth_type names, or the one inferred when it is empty: the method whose secret is set
// (OS_APPLICATION_CREDENTIAL_SECRET, OS_TOKEN, OS_PASSWORD; several: ConfigError asking for OS_AUTH_TYPE), else
// an application credential when its id or name is set, else a password. Throws ConfigError for an auth type
// that is unknown or that vncgate does not support. The other methods' settings are ignored.
AuthMethod auth_method(const KeystoneSettings& settings);

// The POST /v3/auth/tokens body for auth_method(). Throws ConfigError naming the missing setting.
nlohmann::json auth_request(const KeystoneSettings& settings);

struct Token {
  std::string id;  // X-Subject-Token; a secret
  Clock::time_point expires_at;
  nlohmann::json catalog;  // token.catalog (array)
};

// Builds a Token from the X-Subject-Token header and the response body. Throws ProviderError when either is
// missing or malformed.
Token parse_token(const std::string& subject_token, const std::string& body);

// "2026-11-26T07:13:34.000000Z" (Keystone's form; fractions and "Z" optional) as UTC.
std::optional<Clock::time_point> parse_iso8601(std::string_view text);

// The URL of the `type` service's endpoint for `interface` in `region` (any region when empty, as long as
// only one has the service). Trailing '/' removed. nullopt with a reason naming what exists otherwise.
std::optional<std::string> select_endpoint(const nlohmann::json& catalog, std::string_view type,
                                           std::string_view region, std::string_view interface,
                                           std::string* error = nullptr);

// A project-scoped token, fetched when first needed and reused until expires_at - expiry_margin (at most half
// the token's lifetime).
class KeystoneSession {
 public:
  explicit KeystoneSession(KeystoneSettings settings, std::function<Clock::time_point()> now = Clock::now);

  // The cached token, or a new one. Throws AuthError when Keystone rejects the credentials (401),
  // ProviderError for other refusals, IoError when unreachable.
  asio::awaitable<Token> token();
  // Forget the cached token (the service answered 401: revoked or expired early).
  void invalidate() { cached_.reset(); }
  // The endpoint URL of `type` from the current token's catalog; ProviderError when absent.
  asio::awaitable<std::string> endpoint(std::string_view type);
  const KeystoneSettings& settings() const { return settings_; }

 private:
  KeystoneSettings settings_;
  std::function<Clock::time_point()> now_;
  std::optional<Token> cached_;
  std::chrono::seconds margin_{0};
};

}  // namespace vncgate::providers::openstack
