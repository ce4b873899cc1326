// SPDX-License-Identifier: Apache-2.0
#include <algorithm>
#include <cctype>

#include "config/keys.hpp"
#include "config/scalars.hpp"
#include "config/service_config.hpp"

namespace vncgate::config {
namespace {

constexpr std::string_view kMask = "***";

bool contains_any(std::string_view text, std::initializer_list<std::string_view> words) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  return std::any_of(words.begin(), words.end(),
                     [&](std::string_view w) { return lower.find(w) != std::string::npos; });
}

bool secret_name(std::string_view key) {
  return key == "server.api_keys" || contains_any(key, {"secret", "password", "token"});
}

// Query parameters whose values are credentials: ?password=, ?token=, S3 presigned X-Amz-Signature, …
bool secret_parameter(std::string_view name) {
  return contains_any(name, {"pass", "pw", "secret", "token", "key", "auth", "cred", "sig"});
}

std::string render_line(const ServiceConfig& config, const std::string& key, bool mask) {
  auto value = detail::toml_value(config, key);
  // An empty list stays "[]": that there are no keys is worth seeing and gives nothing away.
  if (mask && secret_name(key) && value != "[]") value = detail::is_list_key(key) ? "[\"***\"]" : "\"***\"";
  if (mask && key == "storage.url") value = detail::toml_quote(mask_url(config.storage.url));
  if (mask && key == "jobs.database" && config.jobs.database.find("://") != std::string::npos)
    value = detail::toml_quote(mask_url(config.jobs.database));
  return key.substr(key.find('.') + 1) + " = " + value + "\n";
}

}  // namespace

std::string mask_url(const std::string& url) {
  std::string out = url;
  // Userinfo: everything from "://" to the last '@' before the query. Going to the last '@' (not the first
  // '/') masks too much rather than too little when a password holds '/' or '@' unescaped.
  const auto scheme_end = out.find("://");
  const auto query = out.find('?');
  if (scheme_end != std::string::npos && scheme_end < query) {
    const auto start = scheme_end + 3;
    const auto at = out.rfind('@', query == std::string::npos ? std::string::npos : query);
    if (at != std::string::npos && at >= start && at < query) out.replace(start, at - start, kMask);
  }
  const auto q = out.find('?');
  if (q == std::string::npos) return out;
  std::string masked = out.substr(0, q + 1);
  std::size_t pos = q + 1;
  while (pos <= out.size()) {
    auto end = out.find_first_of("&#", pos);
    if (end == std::string::npos) end = out.size();
    const std::string_view item(out.data() + pos, end - pos);
    const auto eq = item.find('=');
    if (eq != std::string_view::npos && secret_parameter(item.substr(0, eq)))
      masked += std::string(item.substr(0, eq + 1)) + std::string(kMask);
    else
      masked += item;
    if (end == out.size()) break;
    if (out[end] == '#') {
      masked += out.substr(end);  // a fragment is never sent; keep it as written
      break;
    }
    masked += '&';
    pos = end + 1;
  }
  return masked;
}

std::string render(const ServiceConfig& config, bool mask_secrets) {
  std::string out = mask_secrets ? "# vncgate effective configuration; secrets replaced by \"***\"\n"
                                 : "# vncgate effective configuration\n";
  for (const auto& section : detail::section_names()) {
    out += "\n[" + section + "]\n";
    if (section == "targets") {
      for (const auto& [name, target] : config.targets)
        out += name + " = " + detail::toml_quote(mask_secrets ? mask_url(target) : target) + "\n";
      continue;
    }
    for (const auto& key : detail::key_names())
      if (key.compare(0, section.size() + 1, section + ".") == 0) out += render_line(config, key, mask_secrets);
  }
  return out;
}

}  // namespace vncgate::config
