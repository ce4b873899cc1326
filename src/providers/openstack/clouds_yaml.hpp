// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "providers/api_error.hpp"

namespace vncgate::providers::openstack {

struct KeystoneSettings;

// YAML text as JSON: mappings, sequences and scalars (every scalar as a string; aliases are not followed).
// Throws ConfigError naming `what` and the line on a syntax error.
nlohmann::json parse_yaml(const std::string& text, const std::string& what);

// Where clouds.yaml is looked for, in order: $OS_CLIENT_CONFIG_FILE, ./clouds.yaml,
// $HOME/.config/openstack/clouds.yaml, /etc/openstack/clouds.yaml (as openstacksdk does).
std::vector<std::string> clouds_yaml_paths(const Getenv& getenv);

// When OS_CLOUD names a cloud: its clouds.yaml entry (auth_type, auth.*, region_name, interface, cacert, verify) as
// settings. nullopt when OS_CLOUD is unset; ConfigError when no file has that cloud.
std::optional<KeystoneSettings> settings_from_clouds_yaml(const Getenv& getenv);

}  // namespace vncgate::providers::openstack
