// SPDX-License-Identifier: Apache-2.0
// Loading: each source (file, environment, overrides) becomes a layer of "section.key" → RawValue; layers
// are merged key by key (later wins), applied to the defaults, then checked as a whole (validate.cpp).
#include "config/service_config.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>

#include "config/keys.hpp"
#include "config/scalars.hpp"
#include "config/validate.hpp"
#include "util/error.hpp"

extern char** environ;  // NOLINT: POSIX, for listing VNCGATE_* names

namespace vncgate::config {
namespace {

using detail::RawEntries;
using detail::RawKind;
using detail::RawValue;
using Layer = std::map<std::string, RawValue>;

constexpr std::string_view kFileSuffix = "_file";
constexpr std::string_view kEnvPrefix = "VNCGATE_";

std::string did_you_mean(const std::string& suggestion) {
  return suggestion.empty() ? "" : " (did you mean " + suggestion + "?)";
}

[[noreturn]] void unknown_key(const std::string& key, const std::string& where) {
  auto suggestion = detail::closest(key, detail::key_names());
  if (suggestion.empty() && key.find('.') == std::string::npos) {
    // A key written outside its section: "port = 1" at the top level.
    for (const auto& name : detail::key_names())
      if (name.substr(name.find('.') + 1) == key) suggestion = name;
  }
  throw ConfigError(key + ": unknown key" + did_you_mean(suggestion) + (where.empty() ? "" : " (" + where + ")"));
}

// Config files and `_file` values are small; the cap keeps a mistake like api_keys_file = "/dev/zero" from
// eating memory. nullopt when unreadable; ConfigError naming `what` when too large.
constexpr std::size_t kMaxFileBytes = 4 << 20;

std::optional<std::string> read_whole_file(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string text;
  std::array<char, 64 * 1024> chunk{};
  while (in.read(chunk.data(), chunk.size()) || in.gcount() > 0) {
    text.append(chunk.data(), static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxFileBytes) throw ConfigError(what + ": " + path + " is larger than 4 MiB");
  }
  if (in.bad()) return std::nullopt;
  return text;
}

RawValue list_of(const std::vector<std::string>& items, const std::string& where) {
  RawValue out{RawKind::list, {}, {}, where};
  for (const auto& item : items) out.items.push_back(RawValue{RawKind::text, item, {}, where});
  return out;
}

// Environment and flag lists: "a, b,,c" → a, b, c.
RawValue comma_list(const std::string& text, const std::string& where) {
  std::vector<std::string> items;
  std::istringstream in(text);
  for (std::string item; std::getline(in, item, ',');)
    if (auto trimmed = detail::trim(item); !trimmed.empty()) items.push_back(std::move(trimmed));
  return list_of(items, where);
}

// The value of `key` read from the file `path` (a `*_file` key): one list item per line (blank lines and
// # comments skipped) for lists, else the whole file without surrounding whitespace.
RawValue value_from_file(const std::string& key, const std::string& path, const std::string& where) {
  const auto text = read_whole_file(path, key);
  if (!text) throw ConfigError(key + ": cannot read " + path + " (" + where + ")");
  const auto file_where = where + ", file " + path;
  if (!detail::is_list_key(key)) return RawValue{RawKind::text, detail::trim(*text), {}, file_where};
  std::vector<std::string> items;
  std::istringstream in(*text);
  for (std::string line; std::getline(in, line);)
    if (auto item = detail::trim(line); !item.empty() && item[0] != '#') items.push_back(std::move(item));
  return list_of(items, file_where);
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

bool settable(const std::string& key) { return detail::is_known_key(key) || detail::is_target_key(key); }

// Adds `key` = `value` from a file or an override to `layer`; `key_file` keys are read here.
void add(Layer& layer, const std::string& key, RawValue value, bool repeat_appends) {
  std::string stem = key;
  if (!settable(key) && ends_with(key, kFileSuffix) && settable(key.substr(0, key.size() - kFileSuffix.size()))) {
    stem = key.substr(0, key.size() - kFileSuffix.size());
    if (value.kind != RawKind::text && value.kind != RawKind::string)
      throw ConfigError(key + ": expected a file name, got " + detail::kind_name(value.kind) + " (" + value.where +
                        ")");
    value = value_from_file(stem, value.text, value.where);
  } else if (!settable(key)) {
    if (key.rfind(detail::kTargetsPrefix, 0) == 0)
      throw ConfigError(key + ": target names are 1-64 of a-z 0-9 _ - and do not end in _file (" + value.where + ")");
    unknown_key(key, value.where);
  }
  auto [it, inserted] = layer.try_emplace(stem, value);
  if (inserted) return;
  if (!repeat_appends) throw ConfigError(stem + ": set twice (" + it->second.where + " and " + value.where + ")");
  if (value.kind == RawKind::list && it->second.kind == RawKind::list)
    it->second.items.insert(it->second.items.end(), value.items.begin(), value.items.end());
  else
    it->second = std::move(value);  // a repeated scalar flag: the last one wins
}

Layer file_layer(const RawEntries& entries) {
  Layer layer;
  const auto& sections = detail::section_names();
  for (const auto& entry : entries) {
    if (entry.key.find('.') != std::string::npos) {
      add(layer, entry.key, entry.value, false);
      continue;
    }
    const bool known = std::find(sections.begin(), sections.end(), entry.key) != sections.end();
    if (entry.value.kind != RawKind::table && !known) unknown_key(entry.key, entry.value.where);
    if (!known)
      throw ConfigError(entry.key + ": unknown section" + did_you_mean(detail::closest(entry.key, sections)) + " (" +
                        entry.value.where + ")");
    if (entry.value.kind != RawKind::table)
      throw ConfigError(entry.key + ": expected a section, got " + detail::kind_name(entry.value.kind) + " (" +
                        entry.value.where + ")");
  }
  return layer;
}

// The variables other parts of vncgate read themselves; they are not config keys.
bool foreign_variable(std::string_view name) {
  return name.rfind("VNCGATE_S3_", 0) == 0 || name.rfind("VNCGATE_TEST_", 0) == 0 || name == "VNCGATE_ALLOW" ||
         name == "VNCGATE_DEMO_PORT";
}

std::vector<std::string> env_key_names() {
  std::vector<std::string> names;
  for (const auto& key : detail::key_names()) {
    names.push_back(detail::env_name(key));
    names.push_back(detail::env_name(key) + "_FILE");
  }
  return names;
}

// One variable (plain or *_FILE) as the value of `key`.
void add_env(Layer& layer, const std::string& key, const GetEnv& env, const std::string& name) {
  const auto plain = env(name);
  const auto file = env(name + "_FILE");
  if (plain && file) throw ConfigError(key + ": set either " + name + " or " + name + "_FILE, not both");
  if (plain)
    layer[key] = detail::is_list_key(key) ? comma_list(*plain, name) : RawValue{RawKind::text, *plain, {}, name};
  else if (file)
    layer[key] = value_from_file(key, *file, name + "_FILE");
}

Layer env_layer(const GetEnv& env, const std::vector<std::string>& names) {
  Layer layer;
  for (const auto& key : detail::key_names()) add_env(layer, key, env, detail::env_name(key));
  const auto known = env_key_names();
  const std::string targets_prefix = detail::env_name(detail::kTargetsPrefix);  // "VNCGATE_TARGETS_"
  for (const auto& name : names) {
    if (name.rfind(kEnvPrefix, 0) != 0 || foreign_variable(name)) continue;
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    if (name.rfind(targets_prefix, 0) == 0) {
      auto target = name.substr(targets_prefix.size());
      if (ends_with(target, "_FILE")) target.resize(target.size() - 5);
      std::transform(target.begin(), target.end(), target.begin(), [](unsigned char c) { return std::tolower(c); });
      const auto key = std::string(detail::kTargetsPrefix) + target;
      if (!detail::is_target_key(key))
        throw ConfigError(name + ": target names are 1-64 of A-Z 0-9 _ - in the environment");
      if (!layer.count(key))
        add_env(layer, key, env, targets_prefix + name.substr(targets_prefix.size(), target.size()));
      continue;
    }
    // Only names that look meant for us: a section prefix, or a near miss of a real name.
    bool section_prefix = false;
    for (const auto& section : detail::section_names())
      section_prefix = section_prefix || name.rfind(detail::env_name(section) + "_", 0) == 0;
    // Compared without the common prefix, so the typo threshold scales with the part that differs.
    std::vector<std::string> suffixes;
    for (const auto& k : known) suffixes.push_back(k.substr(kEnvPrefix.size()));
    const auto suggestion = detail::closest(name.substr(kEnvPrefix.size()), suffixes);
    if (section_prefix || !suggestion.empty())
      throw ConfigError(name + ": unknown setting" +
                        did_you_mean(suggestion.empty() ? "" : std::string(kEnvPrefix) + suggestion));
  }
  return layer;
}

Layer override_layer(const std::vector<std::pair<std::string, std::string>>& overrides) {
  Layer layer;
  for (const auto& [key, text] : overrides) {
    const std::string where = "command line";
    const bool list = detail::is_list_key(key);
    add(layer, key, list ? comma_list(text, where) : RawValue{RawKind::text, text, {}, where}, true);
  }
  return layer;
}

ServiceConfig build(const Layer& merged) {
  ServiceConfig config;
  for (const auto& [key, value] : merged) detail::apply(config, key, value);
  detail::validate(config);
  return config;
}

std::vector<std::string> process_env_names() {
  std::vector<std::string> names;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    names.emplace_back(text.substr(0, text.find('=')));
  }
  return names;
}

std::optional<std::string> process_getenv(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  return value != nullptr ? std::optional<std::string>(value) : std::nullopt;
}

RawEntries read_text(const std::string& text, FileFormat format, const std::string& name) {
  return format == FileFormat::toml ? detail::read_toml(text, name) : detail::read_yaml(text, name);
}

}  // namespace

void Sources::use_env(std::map<std::string, std::string> variables) {
  auto shared = std::make_shared<const std::map<std::string, std::string>>(std::move(variables));
  env = [shared](const std::string& name) -> std::optional<std::string> {
    const auto it = shared->find(name);
    return it != shared->end() ? std::optional<std::string>(it->second) : std::nullopt;
  };
  env_names = [shared] {
    std::vector<std::string> names;
    for (const auto& [name, value] : *shared) names.push_back(name);
    return names;
  };
}

ServiceConfig load_text(const std::string& text, FileFormat format, const std::string& name) {
  return build(file_layer(read_text(text, format, name)));
}

ServiceConfig load(const Sources& sources) {
  Layer merged;
  const auto merge = [&merged](Layer layer) {
    for (auto& [key, value] : layer) merged[key] = std::move(value);
  };
  if (sources.file) {
    const auto& path = *sources.file;
    FileFormat format = FileFormat::toml;
    if (ends_with(path, ".yaml") || ends_with(path, ".yml"))
      format = FileFormat::yaml;
    else if (!ends_with(path, ".toml"))
      throw ConfigError(path + ": config files end in .toml, .yaml or .yml");
    const auto text = read_whole_file(path, "config file");
    if (!text) throw ConfigError(path + ": cannot read the config file");
    merge(file_layer(read_text(*text, format, path)));
  }
  const GetEnv env = sources.env ? sources.env : GetEnv(process_getenv);
  const auto names =
      sources.env ? (sources.env_names ? sources.env_names() : std::vector<std::string>{}) : process_env_names();
  merge(env_layer(env, names));
  merge(override_layer(sources.overrides));
  return build(merged);
}

}  // namespace vncgate::config
