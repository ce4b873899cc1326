// SPDX-License-Identifier: Apache-2.0
// TOML via toml++ (header-only); kept in this one file because the header is heavy to compile.
#include <toml++/toml.h>

#include <sstream>

#include "config/raw_value.hpp"
#include "util/error.hpp"

namespace vncgate::config::detail {
namespace {

std::string where(const std::string& name, const toml::source_region& source) {
  return name + ":" + std::to_string(source.begin.line) + ":" + std::to_string(source.begin.column);
}

RawValue convert(const toml::node& node, const std::string& name) {
  RawValue out;
  out.where = where(name, node.source());
  if (const auto* s = node.as_string()) {
    out.kind = RawKind::string;
    out.text = s->get();
  } else if (const auto* i = node.as_integer()) {
    out.kind = RawKind::integer;
    out.text = std::to_string(i->get());
  } else if (const auto* f = node.as_floating_point()) {
    out.kind = RawKind::floating;
    std::ostringstream text;
    text.precision(17);
    text << f->get();
    out.text = text.str();
  } else if (const auto* b = node.as_boolean()) {
    out.kind = RawKind::boolean;
    out.text = b->get() ? "true" : "false";
  } else if (const auto* array = node.as_array()) {
    out.kind = RawKind::list;
    for (const auto& item : *array) out.items.push_back(convert(item, name));
  } else if (node.is_table()) {
    out.kind = RawKind::table;
  } else {
    out.kind = RawKind::other;  // dates and times: no key takes them
  }
  return out;
}

}  // namespace

RawEntries read_toml(const std::string& text, const std::string& name) {
  toml::table root;
  try {
    root = toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    throw ConfigError(where(name, e.source()) + ": " + std::string(e.description()));
  }
  RawEntries entries;
  for (const auto& [section, node] : root) {
    const std::string section_name(section.str());
    const auto* table = node.as_table();
    if (table == nullptr) {
      // A bare top-level key: report it as the key it is, so "did you mean" can point to its section.
      entries.push_back({section_name, convert(node, name)});
      continue;
    }
    entries.push_back({section_name, RawValue{RawKind::table, {}, {}, where(name, node.source())}});
    for (const auto& [key, value] : *table)
      entries.push_back({section_name + "." + std::string(key.str()), convert(value, name)});
  }
  return entries;
}

const char* kind_name(RawKind kind) {
  switch (kind) {
    case RawKind::text: return "text";
    case RawKind::string: return "a string";
    case RawKind::integer: return "an integer";
    case RawKind::floating: return "a float";
    case RawKind::boolean: return "a boolean";
    case RawKind::list: return "a list";
    case RawKind::table: return "a table";
    case RawKind::other: return "a date/time";
  }
  return "?";
}

}  // namespace vncgate::config::detail
