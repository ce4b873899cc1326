// SPDX-License-Identifier: Apache-2.0
#include "config/validate.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <utility>

#include "util/error.hpp"

namespace vncgate::config::detail {
namespace {

bool has_space_or_control(std::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; });
}

bool starts_with(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }

bool is_address(const std::string& bind) {
  std::array<unsigned char, 16> address{};
  const auto unbracketed =
      bind.size() > 2 && bind.front() == '[' && bind.back() == ']' ? bind.substr(1, bind.size() - 2) : bind;
  return inet_pton(AF_INET, bind.c_str(), address.data()) == 1 ||
         inet_pton(AF_INET6, unbracketed.c_str(), address.data()) == 1;
}

bool is_loopback(const std::string& bind) {
  std::array<unsigned char, 16> address{};
  if (inet_pton(AF_INET, bind.c_str(), address.data()) == 1) return address[0] == 127;
  const auto unbracketed =
      bind.size() > 2 && bind.front() == '[' && bind.back() == ']' ? bind.substr(1, bind.size() - 2) : bind;
  if (inet_pton(AF_INET6, unbracketed.c_str(), address.data()) != 1) return false;
  constexpr std::array<unsigned char, 16> kLoopback6{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  constexpr std::array<unsigned char, 12> kMapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return address == kLoopback6 || (std::equal(kMapped.begin(), kMapped.end(), address.begin()) && address[12] == 127);
}

// http(s)://HOST[:PORT] with nothing after (a trailing '/' is dropped): what browsers send as Origin.
bool is_origin(std::string& url) {
  if (!url.empty() && url.back() == '/') url.pop_back();
  std::string_view rest(url);
  if (starts_with(rest, "https://"))
    rest.remove_prefix(8);
  else if (starts_with(rest, "http://"))
    rest.remove_prefix(7);
  else
    return false;
  return !rest.empty() && rest.find_first_of("/?#@") == std::string_view::npos && !has_space_or_control(rest);
}

void check_readable(const char* key, const std::string& path) {
  if (std::ifstream(path).good()) return;
  throw ConfigError(std::string(key) + ": cannot read " + path);
}

void validate_server(ServerSection& s) {
  // An address, not a name: the listener binds exactly this (a name could resolve to several, or change).
  if (s.bind.empty() || has_space_or_control(s.bind) || !is_address(s.bind))
    throw ConfigError("server.bind: expected an IP address (127.0.0.1, ::1, 0.0.0.0), got '" + s.bind + "'");
  if (s.bind.front() == '[') s.bind = s.bind.substr(1, s.bind.size() - 2);  // what the listener takes
  for (const auto& host : s.allowed_hosts)
    if (host.empty() || has_space_or_control(host) || host.find_first_of("/@?#") != std::string::npos)
      throw ConfigError("server.allowed_hosts: expected host names or addresses, got '" + host + "'");
  for (std::size_t i = 0; i < s.api_keys.size(); ++i) {
    // Never echo a key: say which one is wrong.
    const auto& key = s.api_keys[i];
    if (key.empty() || has_space_or_control(key) || key.find(',') != std::string::npos)
      throw ConfigError("server.api_keys: key #" + std::to_string(i + 1) +
                        " is empty or has spaces, commas or control characters");
  }
  if (s.api_keys.empty() && !is_loopback(s.bind))
    throw ConfigError("server.api_keys: required when server.bind is " + s.bind +
                      " (not loopback); set VNCGATE_SERVER_API_KEYS_FILE or server.api_keys_file");
  if (!s.public_url.empty() && !is_origin(s.public_url))
    throw ConfigError("server.public_url: expected http(s)://HOST[:PORT], got '" + mask_url(s.public_url) + "'");
  for (auto& origin : s.allowed_origins)
    if (!is_origin(origin))
      throw ConfigError("server.allowed_origins: expected http(s)://HOST[:PORT] entries, got '" + mask_url(origin) +
                        "'");
  if (s.tls_cert.empty() != s.tls_key.empty())
    throw ConfigError(s.tls_cert.empty() ? "server.tls_cert: missing (server.tls_key is set; set both or neither)"
                                         : "server.tls_key: missing (server.tls_cert is set; set both or neither)");
  if (!s.tls_cert.empty()) {
    check_readable("server.tls_cert", s.tls_cert);
    check_readable("server.tls_key", s.tls_key);
  }
}

void validate_jobs(JobsSection& j) {
  if (!j.url.empty()) j.database = std::exchange(j.url, {});  // one effective setting, shown as jobs.database
  if (starts_with(j.database, "sqlite:")) {
    j.database.erase(0, 7);
    if (starts_with(j.database, "//")) j.database.erase(0, 2);  // sqlite:///abs/path
  }
  if (j.database.empty())
    throw ConfigError("jobs.database: empty (expected a SQLite file path or a postgresql:// URL)");
  const bool postgres = starts_with(j.database, "postgresql://") || starts_with(j.database, "postgres://");
  if (postgres && (j.database.find_first_of("/?", j.database.find("://") + 3) == std::string::npos ||
                   has_space_or_control(j.database)))
    throw ConfigError("jobs.database: expected postgresql://[USER[:PASSWORD]@]HOST[:PORT]/DATABASE[?…], got '" +
                      mask_url(j.database) + "'");
  if (!postgres && j.database.find("://") != std::string::npos)
    throw ConfigError("jobs.database: expected a SQLite file path, sqlite:PATH or a postgresql:// URL, got '" +
                      mask_url(j.database) + "'");
  if (j.work_dir.empty()) throw ConfigError("jobs.work_dir: empty (expected a directory)");
  if (j.heartbeat_s * 2 > j.lease_s)
    throw ConfigError("jobs.heartbeat_s: " + std::to_string(j.heartbeat_s) + " is more than half of jobs.lease_s (" +
                      std::to_string(j.lease_s) + "): one late heartbeat would lose the job");
  if (has_space_or_control(j.worker_id)) throw ConfigError("jobs.worker_id: no spaces or control characters");
}

void validate_cluster(ClusterSection& c, const JobsSection& j) {
  const bool postgres = starts_with(j.database, "postgresql://") || starts_with(j.database, "postgres://");
  if (!c.advertise_url.empty() && !is_origin(c.advertise_url))
    throw ConfigError("cluster.advertise_url: expected http(s)://HOST[:PORT], got '" + mask_url(c.advertise_url) + "'");
  if (!c.advertise_url.empty() && !postgres)
    throw ConfigError(
        "cluster.advertise_url: console sessions are shared through PostgreSQL; set jobs.database = "
        "postgresql://…");
  if (!c.advertise_url.empty() && c.secret.empty())
    throw ConfigError(
        "cluster.secret: required with cluster.advertise_url (the same on every node; "
        "VNCGATE_CLUSTER_SECRET_FILE or cluster.secret_file)");
  if (!c.secret.empty() && c.advertise_url.empty())
    throw ConfigError("cluster.advertise_url: required with cluster.secret (how the other nodes reach this one)");
  // Never echo the secret.
  if (!c.secret.empty() && (c.secret.size() < 32 || has_space_or_control(c.secret)))
    throw ConfigError("cluster.secret: expected 32 or more characters without spaces or control characters");
  if (has_space_or_control(c.node_id) || c.node_id.size() > 128)
    throw ConfigError("cluster.node_id: up to 128 characters, no spaces or control characters");
}

void validate_recording(const RecordingSection& r) {
  // H.264 4:2:0 needs even sizes; 16..8192 is what the encoder accepts (record/encoder_settings).
  const auto fits = [](int v) { return v >= 16 && v % 2 == 0; };
  if ((r.width == 0) != (r.height == 0))
    throw ConfigError(std::string(r.width == 0 ? "recording.width" : "recording.height") +
                      ": set both width and height, or neither");
  if (r.width != 0 && (!fits(r.width) || !fits(r.height)))
    throw ConfigError(std::string(fits(r.width) ? "recording.height" : "recording.width") +
                      ": expected an even size of 16..8192");
}

}  // namespace

void validate(ServiceConfig& config) {
  validate_server(config.server);
  validate_jobs(config.jobs);
  if (!starts_with(config.storage.url, "file://") && !starts_with(config.storage.url, "s3://"))
    throw ConfigError("storage.url: expected file://DIR or s3://HOST[:PORT]/…, got '" + mask_url(config.storage.url) +
                      "'");
  if (config.storage.url == "file://" || config.storage.url == "s3://")
    throw ConfigError("storage.url: no directory or host after " + config.storage.url);
  validate_recording(config.recording);
  validate_cluster(config.cluster, config.jobs);
  for (const auto& entry : config.providers.allow)
    if (entry.empty() || has_space_or_control(entry))
      throw ConfigError("providers.allow: expected HOST or CIDR entries, got '" + entry + "'");
  constexpr std::array<std::string_view, 6> kForms{"vnc://", "vncs://", "ws://", "wss://", "openstack:", "proxmox:"};
  for (const auto& [name, target] : config.targets) {
    const bool known = std::any_of(kForms.begin(), kForms.end(), [&target = target](std::string_view form) {
      return starts_with(target, form) && target.size() > form.size();
    });
    if (!known || has_space_or_control(target))
      throw ConfigError("targets." + name +
                        ": expected vnc://, vncs://, ws://, wss://, openstack:ID or proxmox:NODE/…, got '" +
                        mask_url(target) + "'");
  }
}

}  // namespace vncgate::config::detail
