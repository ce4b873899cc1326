// SPDX-License-Identifier: Apache-2.0
#include "providers/openstack/keystone.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <set>
#include <vector>

#include "http/http_client.hpp"
#include "providers/openstack/clouds_yaml.hpp"
#include "util/error.hpp"

namespace vncgate::providers::openstack {
namespace {

std::string env(const Getenv& getenv, const char* name, const char* fallback = nullptr) {
  if (const char* v = getenv(name); v != nullptr && *v != '\0') return v;
  if (fallback != nullptr) {
    if (const char* v = getenv(fallback); v != nullptr && *v != '\0') return v;
  }
  return "";
}

// {"name": …, "domain": {"id"|"name": …}} or {"id": …}.
nlohmann::json named(const std::string& id, const std::string& name, const std::string& domain_id,
                     const std::string& domain_name) {
  if (!id.empty()) return {{"id", id}};
  nlohmann::json out{{"name", name}};
  // Names are unique per domain only; "default" is the domain every Keystone has.
  out["domain"] = !domain_id.empty()     ? nlohmann::json{{"id", domain_id}}
                  : !domain_name.empty() ? nlohmann::json{{"name", domain_name}}
                                         : nlohmann::json{{"id", "default"}};
  return out;
}

std::string auth_tokens_url(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (url.size() < 3 || url.compare(url.size() - 3, 3, "/v3") != 0) url += "/v3";
  return url + "/auth/tokens";
}

// Built outside the coroutine: g++ 12 rejects braced lists of string literals inside one.
http::Request token_request(const KeystoneSettings& settings) {
  http::Request request;
  request.method = "POST";
  request.url = auth_tokens_url(settings.auth_url);
  request.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
  request.body = auth_request(settings).dump();
  request.tls = settings.tls;
  request.timeout = settings.timeout;
  return request;
}

// Whose credentials Keystone refused, for messages (never the secret itself).
std::string describe_identity(const KeystoneSettings& s) {
  switch (auth_method(s)) {
    case AuthMethod::application_credential: return "application credential";
    case AuthMethod::token: return "the token in OS_TOKEN";
    case AuthMethod::password: break;
  }
  return "user '" + (s.username.empty() ? s.user_id : s.username) + "'";
}

}  // namespace

KeystoneSettings KeystoneSettings::from_env(const Getenv& getenv) {
  // clouds.yaml (when OS_CLOUD names a cloud) first; any OS_* variable that is set overrides its entry.
  KeystoneSettings s = settings_from_clouds_yaml(getenv).value_or(KeystoneSettings{});
  auto set = [](std::string& field, std::string value) {
    if (!value.empty()) field = std::move(value);
  };
  set(s.auth_url, env(getenv, "OS_AUTH_URL"));
  if (std::string type = env(getenv, "OS_AUTH_TYPE"); !type.empty()) {
    s.auth_type = std::move(type);
    s.auth_type_origin = "OS_AUTH_TYPE";
  }
  set(s.username, env(getenv, "OS_USERNAME"));
  set(s.user_id, env(getenv, "OS_USER_ID"));
  set(s.password, env_or_file(getenv, "OS_PASSWORD"));
  set(s.user_domain_name, env(getenv, "OS_USER_DOMAIN_NAME"));
  set(s.user_domain_id, env(getenv, "OS_USER_DOMAIN_ID"));
  set(s.project_name, env(getenv, "OS_PROJECT_NAME", "OS_TENANT_NAME"));
  set(s.project_id, env(getenv, "OS_PROJECT_ID", "OS_TENANT_ID"));
  set(s.project_domain_name, env(getenv, "OS_PROJECT_DOMAIN_NAME"));
  set(s.project_domain_id, env(getenv, "OS_PROJECT_DOMAIN_ID"));
  if (const std::string default_domain = env(getenv, "OS_DEFAULT_DOMAIN"); !default_domain.empty()) {
    if (s.user_domain_name.empty() && s.user_domain_id.empty()) s.user_domain_id = default_domain;
    if (s.project_domain_name.empty() && s.project_domain_id.empty()) s.project_domain_id = default_domain;
  }
  set(s.application_credential_id, env(getenv, "OS_APPLICATION_CREDENTIAL_ID"));
  set(s.application_credential_name, env(getenv, "OS_APPLICATION_CREDENTIAL_NAME"));
  set(s.application_credential_secret, env_or_file(getenv, "OS_APPLICATION_CREDENTIAL_SECRET"));
  set(s.token, env_or_file(getenv, "OS_TOKEN"));
  set(s.region_name, env(getenv, "OS_REGION_NAME"));
  set(s.interface, env(getenv, "OS_INTERFACE", "OS_ENDPOINT_TYPE"));
  // openrc files from older clouds say "publicURL"/"internalURL".
  if (s.interface.size() > 3 && s.interface.compare(s.interface.size() - 3, 3, "URL") == 0) {
    s.interface.resize(s.interface.size() - 3);
  }
  set(s.tls.ca_file, env(getenv, "OS_CACERT"));
  s.tls.insecure = s.tls.insecure || env_flag(getenv, "OS_INSECURE");
  return s;
}

AuthMethod auth_method(const KeystoneSettings& s) {
  std::string type = s.auth_type;
  for (auto& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (type == "password" || type == "v3password") return AuthMethod::password;
  if (type == "v3applicationcredential") return AuthMethod::application_credential;
  if (type == "token" || type == "v3token") return AuthMethod::token;
  if (!type.empty()) {
    // keystoneauth's other plugins: real auth types, just not ones vncgate implements.
    constexpr std::string_view kOtherPlugins =
        " admin_token http_basic none noauth token_endpoint v2password v2token v3adfspassword v3fedkerb v3kerberos"
        " v3multifactor v3oauth1 v3oauth2clientcredential v3oidcaccesstoken v3oidcauthcode v3oidcclientcredentials"
        " v3oidcdeviceauthz v3oidcpassword v3samlpassword v3tokenlessauth v3totp ";
    const std::string what = "auth type '" + s.auth_type + "' (" + s.auth_type_origin + ")";
    const char* supported = "password, v3password, v3applicationcredential, token or v3token";
    if (kOtherPlugins.find(" " + type + " ") != std::string_view::npos)
      throw ConfigError("OpenStack: " + what + " is not supported by vncgate; use " + supported);
    throw ConfigError("OpenStack: unknown " + what + "; use " + supported);
  }
  // No auth type: the method whose secret is set. Two openrc files sourced one after the other leave both
  // methods' variables behind; guessing would log in as the wrong identity, so ask.
  std::vector<std::string> secrets;
  if (!s.application_credential_secret.empty()) secrets.emplace_back("OS_APPLICATION_CREDENTIAL_SECRET");
  if (!s.token.empty()) secrets.emplace_back("OS_TOKEN");
  if (!s.password.empty()) secrets.emplace_back("OS_PASSWORD");
  if (secrets.size() > 1) {
    std::string names;
    for (const auto& n : secrets) names += (names.empty() ? "" : " and ") + n;
    throw ConfigError("OpenStack: " + names +
                      " are set; set OS_AUTH_TYPE (v3password, v3applicationcredential or v3token) to choose");
  }
  if (!s.application_credential_secret.empty()) return AuthMethod::application_credential;
  if (!s.token.empty()) return AuthMethod::token;
  if (!s.password.empty()) return AuthMethod::password;
  const bool app_cred_named = !s.application_credential_id.empty() || !s.application_credential_name.empty();
  return app_cred_named ? AuthMethod::application_credential : AuthMethod::password;
}

nlohmann::json auth_request(const KeystoneSettings& s) {
  if (s.auth_url.empty())
    throw ConfigError("OpenStack: set OS_AUTH_URL (the Keystone URL, e.g. https://cloud:5000/v3)");
  const AuthMethod method = auth_method(s);
  // "OS_AUTH_TYPE is v3token: " when the type was chosen, so the message explains why this variable is needed.
  const std::string because = s.auth_type.empty() ? "" : s.auth_type_origin + " is " + s.auth_type + ": ";
  auto missing = [&](const std::string& what) { return ConfigError("OpenStack: " + because + "set " + what); };
  if (method == AuthMethod::application_credential) {
    if (s.application_credential_id.empty() && s.application_credential_name.empty())
      throw missing("OS_APPLICATION_CREDENTIAL_ID (or OS_APPLICATION_CREDENTIAL_NAME with OS_USERNAME)");
    if (s.application_credential_secret.empty())
      throw missing("OS_APPLICATION_CREDENTIAL_SECRET (or OS_APPLICATION_CREDENTIAL_SECRET_FILE)");
    nlohmann::json cred{{"secret", s.application_credential_secret}};
    if (!s.application_credential_id.empty()) {
      cred["id"] = s.application_credential_id;
    } else {
      // A name is unique per user only.
      if (s.username.empty() && s.user_id.empty()) {
        throw ConfigError("OpenStack: an application credential given by name needs OS_USERNAME or OS_USER_ID");
      }
      cred["name"] = s.application_credential_name;
      cred["user"] = named(s.user_id, s.username, s.user_domain_id, s.user_domain_name);
    }
    const nlohmann::json identity{{"methods", {"application_credential"}}, {"application_credential", cred}};
    // Application credentials carry their own project scope; Keystone rejects an explicit one.
    return {{"auth", {{"identity", identity}}}};
  }
  nlohmann::json identity;
  if (method == AuthMethod::token) {
    if (s.token.empty()) throw missing("OS_TOKEN (or OS_TOKEN_FILE)");
    identity = {{"methods", {"token"}}, {"token", {{"id", s.token}}}};
  } else {
    if (s.username.empty() && s.user_id.empty()) {
      throw ConfigError("OpenStack: " + because + "set OS_USERNAME (or OS_USER_ID) and OS_PASSWORD" +
                        (because.empty() ? ", or an application credential" : ""));
    }
    if (s.password.empty()) throw missing("OS_PASSWORD (or OS_PASSWORD_FILE)");
    auto user = named(s.user_id, s.username, s.user_domain_id, s.user_domain_name);
    user["password"] = s.password;
    identity = {{"methods", {"password"}}, {"password", {{"user", user}}}};
  }
  if (s.project_name.empty() && s.project_id.empty())
    throw missing("OS_PROJECT_NAME or OS_PROJECT_ID (consoles need a project-scoped token)");
  auto project = named(s.project_id, s.project_name, s.project_domain_id, s.project_domain_name);
  return {{"auth", {{"identity", identity}, {"scope", {{"project", project}}}}}};
}

std::optional<Clock::time_point> parse_iso8601(std::string_view text) {
  std::tm tm{};
  int consumed = 0;
  const std::string s(text);
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                  &tm.tm_sec, &consumed) != 6) {
    return std::nullopt;
  }
  std::size_t i = static_cast<std::size_t>(consumed);
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) != 0) ++i;  // sub-second: dropped
  }
  if (i < s.size() && s.substr(i) != "Z" && s.substr(i) != "+00:00") return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const std::time_t t = timegm(&tm);
  if (t == static_cast<std::time_t>(-1)) return std::nullopt;
  return Clock::from_time_t(t);
}

Token parse_token(const std::string& subject_token, const std::string& body) {
  if (subject_token.empty()) throw ProviderError("Keystone answered without an X-Subject-Token header");
  const auto json = nlohmann::json::parse(body, nullptr, false);
  if (!json.is_object() || !json.contains("token") || !json["token"].is_object()) {
    throw ProviderError("Keystone token response has no \"token\" object");
  }
  const auto& token = json["token"];
  Token out;
  out.id = subject_token;
  const auto expires = token.value("expires_at", std::string());
  auto when = parse_iso8601(expires);
  if (!when) throw ProviderError("Keystone token has a malformed expires_at '" + expires + "'");
  out.expires_at = *when;
  out.catalog = token.value("catalog", nlohmann::json::array());
  return out;
}

std::optional<std::string> select_endpoint(const nlohmann::json& catalog, std::string_view type,
                                           std::string_view region, std::string_view interface, std::string* error) {
  auto fail = [&](std::string reason) -> std::optional<std::string> {
    if (error != nullptr) *error = std::move(reason);
    return std::nullopt;
  };
  if (!catalog.is_array()) return fail("the token has no service catalog (is it project-scoped?)");
  std::vector<std::string> urls;
  std::set<std::string> regions, interfaces, matching_regions;
  bool service_found = false;
  for (const auto& service : catalog) {
    if (!service.is_object() || service.value("type", "") != type) continue;
    service_found = true;
    for (const auto& ep : service.value("endpoints", nlohmann::json::array())) {
      if (!ep.is_object()) continue;
      // v3 catalogs carry both "region_id" and the deprecated "region"; older ones only "region".
      const std::string ep_region = ep.value("region_id", ep.value("region", ""));
      const std::string ep_interface = ep.value("interface", "");
      regions.insert(ep_region);
      interfaces.insert(ep_interface);
      if (ep_interface != interface) continue;
      if (!region.empty() && ep_region != region) continue;
      matching_regions.insert(ep_region);
      urls.push_back(ep.value("url", ""));
    }
  }
  auto join = [](const std::set<std::string>& items) {
    std::string out;
    for (const auto& i : items) out += (out.empty() ? "" : ", ") + (i.empty() ? "(none)" : i);
    return out;
  };
  if (!service_found) return fail("the catalog has no '" + std::string(type) + "' service");
  if (urls.empty()) {
    return fail("no '" + std::string(type) + "' endpoint with interface '" + std::string(interface) + "'" +
                (region.empty() ? "" : " in region '" + std::string(region) + "'") + " (regions: " + join(regions) +
                "; interfaces: " + join(interfaces) + ")");
  }
  if (matching_regions.size() > 1) {
    return fail("'" + std::string(type) + "' has endpoints in several regions (" + join(matching_regions) +
                "); set OS_REGION_NAME");
  }
  std::string url = urls.front();
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (url.empty()) return fail("the '" + std::string(type) + "' endpoint has an empty URL");
  return url;
}

KeystoneSession::KeystoneSession(KeystoneSettings settings, std::function<Clock::time_point()> now)
    : settings_(std::move(settings)), now_(std::move(now)) {
  if (settings_.tls.insecure) {
    spdlog::warn(
        "OpenStack: TLS certificate verification is OFF (OS_INSECURE); anyone on the path can "
        "read the credentials");
  }
}

asio::awaitable<Token> KeystoneSession::token() {
  if (cached_ && now_() + margin_ < cached_->expires_at) co_return *cached_;
  cached_.reset();
  const auto response = co_await http::send(token_request(settings_));
  const std::string who = describe_identity(settings_);
  if (response.status == 401) {
    throw AuthError("Keystone " + io::redact_url(settings_.auth_url) + " rejected the credentials of " + who + ": " +
                    describe_failure(response));
  }
  if (response.status != 201 && response.status != 200) {
    throw ProviderError("Keystone authentication of " + who + " at " + io::redact_url(settings_.auth_url) +
                        " failed: " + describe_failure(response));
  }
  Token token = parse_token(response.header("X-Subject-Token").value_or(""), response.body);
  spdlog::debug("Keystone: new token for {}, expires in {} s", who,
                std::chrono::duration_cast<std::chrono::seconds>(token.expires_at - now_()).count());
  // A cloud with short-lived tokens (shorter than twice the margin) would otherwise need a new token per call.
  const auto lifetime = std::chrono::duration_cast<std::chrono::seconds>(token.expires_at - now_());
  margin_ = std::min(settings_.expiry_margin, lifetime / 2);
  cached_ = token;
  co_return token;
}

asio::awaitable<std::string> KeystoneSession::endpoint(std::string_view type) {
  const Token t = co_await token();
  std::string error;
  auto url = select_endpoint(t.catalog, type, settings_.region_name, settings_.interface, &error);
  if (!url) throw ProviderError("OpenStack service catalog: " + error);
  co_return *url;
}

}  // namespace vncgate::providers::openstack
