// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/raw_value.hpp"
#include "config/service_config.hpp"

// The table of config keys: their names, types, ranges, and how to set and print each field.
namespace vncgate::config::detail {

constexpr std::string_view kTargetsPrefix = "targets.";

// Every fixed key ("server.port", …, "log.level") in render order; [targets] keys are dynamic.
const std::vector<std::string>& key_names();
// "server", "jobs", …, "targets", "log".
const std::vector<std::string>& section_names();
bool is_known_key(std::string_view key);
bool is_list_key(std::string_view key);
// A [targets] key with a valid name ([a-z0-9_-]+, not ending in "_file").
bool is_target_key(std::string_view key);

// Sets `key` (known or a target) from `value`; throws ConfigError "<key>: <reason> (<where>)" on a wrong
// type, a malformed value or one out of range.
void apply(ServiceConfig& config, const std::string& key, const RawValue& value);
// The field's value as a TOML value ("8090", "\"127.0.0.1\"", "[\"a\", \"b\"]"), unmasked.
std::string toml_value(const ServiceConfig& config, const std::string& key);

// "server.port" -> "VNCGATE_SERVER_PORT".
std::string env_name(std::string_view key);
// The closest of `candidates` to `word` when it is near enough to be a typo, else "".
std::string closest(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace vncgate::config::detail
