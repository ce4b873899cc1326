// SPDX-License-Identifier: Apache-2.0
#include "config/keys.hpp"

#include <algorithm>
#include <cctype>
#include <limits>
#include <variant>

#include "config/scalars.hpp"
#include "util/error.hpp"

namespace vncgate::config::detail {
namespace {

template <class T>
using Field = T& (*)(ServiceConfig&);
using AnyField = std::variant<Field<std::string>, Field<bool>, Field<int>, Field<std::int64_t>, Field<std::uint16_t>,
                              Field<std::size_t>, Field<double>, Field<std::vector<std::string>>>;

struct Key {
  Key(std::string n, AnyField f) : name(std::move(n)), field(f) {}
  Key(std::string n, AnyField f, double lo, double hi) : name(std::move(n)), field(f), min(lo), max(hi) {}
  Key(std::string n, AnyField f, std::vector<std::string_view> c)
      : name(std::move(n)), field(f), choices(std::move(c)) {}

  std::string name;
  AnyField field;
  double min = 0, max = 0;                // numbers: inclusive range
  std::vector<std::string_view> choices;  // strings: the allowed values, if limited
};

#define VNCGATE_FIELD(path)         \
  +[](ServiceConfig & c) -> auto& { \
    return c.path;                  \
  }

const std::vector<Key>& keys() {
  static const std::vector<Key> table = [] {
    constexpr double kDay = 86400;
    std::vector<Key> k;
    k.reserve(64);
    k.push_back({"server.bind", VNCGATE_FIELD(server.bind)});
    k.push_back({"server.port", VNCGATE_FIELD(server.port), 0, 65535});
    k.push_back({"server.api_keys", VNCGATE_FIELD(server.api_keys)});
    k.push_back({"server.allow_no_auth", VNCGATE_FIELD(server.allow_no_auth)});
    k.push_back({"server.allowed_hosts", VNCGATE_FIELD(server.allowed_hosts)});
    k.push_back({"server.body_limit", VNCGATE_FIELD(server.body_limit), 1024, 1 << 30});
    k.push_back({"server.request_timeout_s", VNCGATE_FIELD(server.request_timeout_s), 1, 3600});
    k.push_back({"server.write_timeout_s", VNCGATE_FIELD(server.write_timeout_s), 1, 3600});
    k.push_back({"server.max_connections", VNCGATE_FIELD(server.max_connections), 1, 1000000});
    k.push_back({"server.max_connections_per_client", VNCGATE_FIELD(server.max_connections_per_client), 1, 1000000});
    k.push_back({"server.public_url", VNCGATE_FIELD(server.public_url)});
    k.push_back({"server.allowed_origins", VNCGATE_FIELD(server.allowed_origins)});
    k.push_back({"server.tls_cert", VNCGATE_FIELD(server.tls_cert)});
    k.push_back({"server.tls_key", VNCGATE_FIELD(server.tls_key)});
    k.push_back({"server.web_root", VNCGATE_FIELD(server.web_root)});
    k.push_back({"server.role", VNCGATE_FIELD(server.role), {"all", "api", "worker"}});
    k.push_back({"server.novnc_dir", VNCGATE_FIELD(server.novnc_dir)});
    k.push_back({"jobs.database", VNCGATE_FIELD(jobs.database)});
    k.push_back({"jobs.max_concurrent", VNCGATE_FIELD(jobs.max_concurrent), 1, 1024});
    k.push_back({"jobs.work_dir", VNCGATE_FIELD(jobs.work_dir)});
    k.push_back({"jobs.max_duration_s", VNCGATE_FIELD(jobs.max_duration_s), 1, 365 * kDay});
    k.push_back({"jobs.max_count", VNCGATE_FIELD(jobs.max_count), 1, 1000000});
    k.push_back({"jobs.max_total_s", VNCGATE_FIELD(jobs.max_total_s), 1, 10 * 365 * kDay});
    k.push_back({"jobs.max_queued", VNCGATE_FIELD(jobs.max_queued), 1, 1000000});
    k.push_back({"jobs.max_queued_per_key", VNCGATE_FIELD(jobs.max_queued_per_key), 1, 1000000});
    k.push_back({"jobs.upload_retry_s", VNCGATE_FIELD(jobs.upload_retry_s), 1, kDay});
    k.push_back({"jobs.keep_local", VNCGATE_FIELD(jobs.keep_local)});
    k.push_back({"jobs.url", VNCGATE_FIELD(jobs.url)});
    k.push_back({"jobs.worker_id", VNCGATE_FIELD(jobs.worker_id)});
    k.push_back({"jobs.lease_s", VNCGATE_FIELD(jobs.lease_s), 2, 3600});
    k.push_back({"jobs.heartbeat_s", VNCGATE_FIELD(jobs.heartbeat_s), 1, 1800});
    k.push_back({"storage.url", VNCGATE_FIELD(storage.url)});
    k.push_back({"recording.width", VNCGATE_FIELD(recording.width), 0, 8192});
    k.push_back({"recording.height", VNCGATE_FIELD(recording.height), 0, 8192});
    k.push_back({"recording.fps", VNCGATE_FIELD(recording.fps), 0.1, 120});
    k.push_back({"recording.quality", VNCGATE_FIELD(recording.quality), 0, 51});
    k.push_back({"recording.preset",
                 VNCGATE_FIELD(recording.preset),
                 {"ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"}});
    k.push_back({"recording.chroma", VNCGATE_FIELD(recording.chroma), {"444", "420"}});
    k.push_back({"recording.fbs", VNCGATE_FIELD(recording.fbs)});
    k.push_back({"recording.reconnect_timeout_s", VNCGATE_FIELD(recording.reconnect_timeout_s), 0, kDay});
    k.push_back({"recording.connect_grace_s", VNCGATE_FIELD(recording.connect_grace_s), 0, 3600});
    k.push_back({"providers.default_provider", VNCGATE_FIELD(providers.default_provider), {"openstack", "proxmox"}});
    k.push_back({"providers.allow", VNCGATE_FIELD(providers.allow)});
    k.push_back({"providers.allow_loopback", VNCGATE_FIELD(providers.allow_loopback)});
    k.push_back({"gateway.link_ttl_s", VNCGATE_FIELD(gateway.link_ttl_s), 1, kDay});
    k.push_back({"gateway.idle_timeout_s", VNCGATE_FIELD(gateway.idle_timeout_s), 1, 7 * kDay});
    k.push_back({"gateway.hibernate_after_s", VNCGATE_FIELD(gateway.hibernate_after_s), 0, kDay});
    k.push_back({"gateway.heartbeat_s", VNCGATE_FIELD(gateway.heartbeat_s), 5, 3600});
    k.push_back({"gateway.audit_keys", VNCGATE_FIELD(gateway.audit_keys)});
    k.push_back({"gateway.max_sessions", VNCGATE_FIELD(gateway.max_sessions), 1, 100000});
    k.push_back({"gateway.max_sessions_per_key", VNCGATE_FIELD(gateway.max_sessions_per_key), 1, 100000});
    k.push_back({"gateway.connect_attempts", VNCGATE_FIELD(gateway.connect_attempts), 0, 10000});
    k.push_back({"gateway.max_picture_pixels", VNCGATE_FIELD(gateway.max_picture_pixels), 4096, (64 << 20) - 1});
    k.push_back({"gateway.picture_memory", VNCGATE_FIELD(gateway.picture_memory), 1 << 24, 1ULL << 40});
    k.push_back({"cluster.advertise_url", VNCGATE_FIELD(cluster.advertise_url)});
    k.push_back({"cluster.secret", VNCGATE_FIELD(cluster.secret)});
    k.push_back({"cluster.node_id", VNCGATE_FIELD(cluster.node_id)});
    k.push_back({"cluster.node_timeout_s", VNCGATE_FIELD(cluster.node_timeout_s), 2, 3600});
    k.push_back({"log.level", VNCGATE_FIELD(log_level), {"trace", "debug", "info", "warn", "error"}});
    return k;
  }();
  return table;
}

#undef VNCGATE_FIELD

const Key* find_key(std::string_view name) {
  for (const auto& key : keys())
    if (key.name == name) return &key;
  return nullptr;
}

[[noreturn]] void fail(const std::string& key, const RawValue& value, const std::string& reason) {
  throw ConfigError(key + ": " + reason + (value.where.empty() ? "" : " (" + value.where + ")"));
}

std::string range_text(const Key& key) {
  const auto text = [](double v) {
    return v == static_cast<double>(static_cast<std::int64_t>(v)) ? std::to_string(static_cast<std::int64_t>(v))
                                                                  : format_number(v);
  };
  return text(key.min) + ".." + text(key.max);
}

// A scalar's text when `value` has one of the `accepted` kinds, else the wrong-type error.
const std::string& scalar_text(const std::string& key, const RawValue& value, std::initializer_list<RawKind> accepted,
                               const char* expected) {
  if (value.kind == RawKind::text || std::find(accepted.begin(), accepted.end(), value.kind) != accepted.end())
    return value.text;
  fail(key, value, std::string("expected ") + expected + ", got " + kind_name(value.kind));
}

struct Setter {
  const Key& key;
  const RawValue& value;
  ServiceConfig& config;

  void operator()(Field<std::string> field) const {
    const auto& text = scalar_text(key.name, value, {RawKind::string}, "a string");
    if (!key.choices.empty() && std::find(key.choices.begin(), key.choices.end(), text) == key.choices.end()) {
      std::string list;
      for (const auto& choice : key.choices) list += (list.empty() ? "" : "|") + std::string(choice);
      fail(key.name, value, "expected one of " + list + ", got '" + text + "'");
    }
    field(config) = text;
  }
  void operator()(Field<bool> field) const {
    const auto parsed = parse_boolean(scalar_text(key.name, value, {RawKind::boolean}, "a boolean"));
    if (!parsed) fail(key.name, value, "expected true/false (yes/no, on/off, 1/0), got '" + value.text + "'");
    field(config) = *parsed;
  }
  template <class Int>
  void operator()(Field<Int> field) const {
    const auto& text = scalar_text(key.name, value, {RawKind::integer}, "an integer");
    const auto parsed = parse_integer(text);
    if (!parsed || *parsed < key.min || *parsed > key.max)
      fail(key.name, value, "expected an integer " + range_text(key) + ", got '" + text + "'");
    field(config) = static_cast<Int>(*parsed);
  }
  void operator()(Field<std::size_t> field) const {
    const auto& text = scalar_text(key.name, value, {RawKind::integer, RawKind::string}, "a size");
    const auto parsed = parse_bytes(text);
    if (!parsed || *parsed < key.min || *parsed > key.max)
      fail(key.name, value,
           "expected a size in bytes " + range_text(key) + " (plain, KiB, MiB or GiB), got '" + text + "'");
    field(config) = static_cast<std::size_t>(*parsed);
  }
  void operator()(Field<double> field) const {
    const auto& text = scalar_text(key.name, value, {RawKind::floating, RawKind::integer}, "a number");
    const auto parsed = parse_number(text);
    if (!parsed || *parsed < key.min || *parsed > key.max)
      fail(key.name, value, "expected a number " + range_text(key) + ", got '" + text + "'");
    field(config) = *parsed;
  }
  void operator()(Field<std::vector<std::string>> field) const {
    if (value.kind != RawKind::list)
      fail(key.name, value, std::string("expected a list, got ") + kind_name(value.kind));
    std::vector<std::string> items;
    for (const auto& item : value.items) {
      if (item.kind != RawKind::text && item.kind != RawKind::string)
        fail(key.name, item, std::string("expected a list of strings, got ") + kind_name(item.kind) + " in it");
      items.push_back(item.text);
    }
    field(config) = std::move(items);
  }
};

struct Printer {
  ServiceConfig& config;
  const Key& key;

  std::string operator()(Field<std::string> field) const { return toml_quote(field(config)); }
  std::string operator()(Field<bool> field) const { return field(config) ? "true" : "false"; }
  template <class Int>
  std::string operator()(Field<Int> field) const {
    return std::to_string(field(config));
  }
  std::string operator()(Field<double> field) const { return format_number(field(config)); }
  std::string operator()(Field<std::vector<std::string>> field) const {
    std::string out = "[";
    for (const auto& item : field(config)) out += (out.size() > 1 ? ", " : "") + toml_quote(item);
    return out + "]";
  }
};

}  // namespace

const std::vector<std::string>& key_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& key : keys()) out.push_back(key.name);
    return out;
  }();
  return names;
}

const std::vector<std::string>& section_names() {
  static const std::vector<std::string> names{"server",  "jobs",    "storage", "recording", "providers",
                                              "gateway", "cluster", "targets", "log"};
  return names;
}

bool is_known_key(std::string_view key) { return find_key(key) != nullptr; }

bool is_list_key(std::string_view key) {
  const auto* k = find_key(key);
  return k != nullptr && std::holds_alternative<Field<std::vector<std::string>>>(k->field);
}

bool is_target_key(std::string_view key) {
  if (key.substr(0, kTargetsPrefix.size()) != kTargetsPrefix) return false;
  const auto name = key.substr(kTargetsPrefix.size());
  if (name.empty() || name.size() > 64 || (name.size() >= 5 && name.substr(name.size() - 5) == "_file")) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'; });
}

void apply(ServiceConfig& config, const std::string& key, const RawValue& value) {
  if (is_target_key(key)) {
    const auto& text = scalar_text(key, value, {RawKind::string}, "a string");
    if (text.empty()) fail(key, value, "empty target");
    config.targets[key.substr(kTargetsPrefix.size())] = text;
    return;
  }
  const auto* k = find_key(key);
  if (k == nullptr) throw std::logic_error("config: apply() on unknown key " + key);
  std::visit(Setter{*k, value, config}, k->field);
}

std::string toml_value(const ServiceConfig& config, const std::string& key) {
  const auto* k = find_key(key);
  if (k == nullptr) throw std::logic_error("config: toml_value() on unknown key " + key);
  auto copy = config;  // the field accessors hand out mutable references
  return std::visit(Printer{copy, *k}, k->field);
}

std::string env_name(std::string_view key) {
  std::string out = "VNCGATE_";
  for (const char c : key) out += c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string closest(std::string_view word, const std::vector<std::string>& candidates) {
  // Optimal string alignment distance: edits plus adjacent swaps ("prot" -> "port" is one).
  const auto distance = [](std::string_view a, std::string_view b) {
    std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
    for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
      for (std::size_t j = 1; j <= b.size(); ++j) {
        const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
        d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
          d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
    return d[a.size()][b.size()];
  };
  if (word.size() > 200) return "";
  const std::size_t limit = std::max<std::size_t>(2, word.size() / 5);
  std::string best;
  std::size_t best_distance = limit + 1;
  for (const auto& candidate : candidates) {
    const auto d = distance(word, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  return best;
}

}  // namespace vncgate::config::detail
