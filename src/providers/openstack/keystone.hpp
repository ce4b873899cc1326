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

// Keystone v3 credentials and where to find the compute API, named as in openrc files (OS_* variables).
// Either a password (user name + user domain, or user id; project name + project domain, or project id) or an
// application credential (id + secret, or name + secret + user).
struct KeystoneSettings {
  std::string auth_url;  // e.g. https://keystone:5000/v3 ("/v3" is added when missing)
  std::string username, user_id, password, user_domain_name, user_domain_id;
  std::string project_name, project_id, project_domain_name, project_domain_id;
  std::string application_credential_id, application_credential_name, application_credential_secret;
  std::string region_name;           // empty: the catalog must have one region for the service
  std::string interface = "public";  // public, internal or admin
  io::TlsOptions tls;
  std::chrono::seconds expiry_margin{120};  // renew a cached token this long before it expires
  std::chrono::milliseconds timeout{30000};

  // OS_AUTH_URL, OS_USERNAME, OS_USER_ID, OS_PASSWORD(_FILE), OS_USER_DOMAIN_NAME/_ID, OS_PROJECT_NAME/_ID
  // (OS_TENANT_NAME/_ID), OS_PROJECT_DOMAIN_NAME/_ID, OS_DEFAULT_DOMAIN, OS_APPLICATION_CREDENTIAL_ID/_NAME/
  // _SECRET(_FILE), OS_REGION_NAME, OS_INTERFACE (OS_ENDPOINT_TYPE), OS_CACERT, OS_INSECURE. With OS_CLOUD,
  // that cloud's clouds.yaml entry comes first and the variables that are set override it.
  static KeystoneSettings from_env(const Getenv& getenv);
};

// The POST /v3/auth/tokens body. Throws ConfigError naming the missing setting.
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
