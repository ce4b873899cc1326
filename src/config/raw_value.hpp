// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <vector>

// What the readers (TOML, YAML, environment, flags) hand to the loader before a key's type is known.
namespace vncgate::config::detail {

// `text` is untyped (YAML scalars, environment, flags) and parsed by the key's type; the others carry the
// type TOML gave them, so `port = "8090"` in TOML is a wrong type while `port: "8090"` in YAML is not.
enum class RawKind { text, string, integer, floating, boolean, list, table, other };

struct RawValue {
  RawKind kind = RawKind::text;
  std::string text;             // scalars (TOML numbers and booleans in their TOML spelling)
  std::vector<RawValue> items;  // list
  std::string where;            // for messages: "vncgate.toml:3:8", "VNCGATE_SERVER_PORT", "flag server.port"
};

struct RawEntry {
  std::string key;  // "section.key" as written (not yet checked)
  RawValue value;
};
using RawEntries = std::vector<RawEntry>;

// A file's text as "section.key" entries. Throws ConfigError "<name>:<line>:<column>: <reason>" on syntax
// errors and when the top level is not a mapping of sections.
RawEntries read_toml(const std::string& text, const std::string& name);
RawEntries read_yaml(const std::string& text, const std::string& name);

// The RawKind's name for "expected an integer, got a string" messages.
const char* kind_name(RawKind kind);

}  // namespace vncgate::config::detail
