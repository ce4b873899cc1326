// SPDX-License-Identifier: Apache-2.0
// TOML via toml++ (header-only); kept in this one file because the header is heavy to compile.
//
// toml++ 3.3 (Debian 12) has two kinds of faults reachable from malformed input, found by fuzz_config:
// - internal preconditions checked with assert(), turned into __builtin_assume under NDEBUG ("[[[1]]]":
//   marzer/tomlplusplus#301, fixed after 3.3). Here they are checks in every build that throw; the throws
//   that GCC sees inside noexcept helpers would terminate, but no input reaches those.
// - is_non_ascii_horizontal_whitespace() hits TOML_UNREACHABLE for most of U+00A1..U+0499 and
//   U+2C1E..U+3017 (its lookup table has holes), which the parser calls on a non-ASCII character where a key,
//   value or whitespace may stand. check_lexically() keeps such characters away from it; TOML allows non-ASCII
//   only in strings and comments anyway.
#undef NDEBUG
#include <stdexcept>
#define TOML_ASSERT(expr) ((expr) ? static_cast<void>(0) : throw std::logic_error("toml++ precondition failed: " #expr))
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wterminate"
#endif
#include <toml++/toml.h>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

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

// Rejects what TOML forbids and toml++ 3.3 mishandles (see the top of the file): control characters other
// than tab and line breaks anywhere; non-ASCII outside strings and comments, and as the first character after
// a line-ending backslash in a multi-line basic string (the parser asks whether it is whitespace).
void check_lexically(const std::string& text, const std::string& name) {
  enum class State { normal, comment, basic, literal, ml_basic, ml_literal } state = State::normal;
  std::size_t line = 1, column = 0;
  bool escaped = false;       // after a backslash in a basic string
  bool continuation = false;  // after "\" + line break in a multi-line basic string
  const auto fail = [&](const char* what) {
    throw ConfigError(name + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + what);
  };
  const auto at = [&](std::size_t i, std::string_view s) { return text.compare(i, s.size(), s) == 0; };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    ++column;
    if (c == '\n') {
      ++line;
      column = 0;
      if (state == State::comment || state == State::basic || state == State::literal) state = State::normal;
      if (escaped && state == State::ml_basic) continuation = true;
      escaped = false;
      continue;
    }
    if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f) fail("control character (not allowed in TOML)");
    if (continuation && c != ' ' && c != '\t' && c != '\r') {
      continuation = false;
      if (c >= 0x80) fail("non-ASCII character right after a line-ending backslash");
    }
    switch (state) {
      case State::normal:
        if (c >= 0x80) fail("non-ASCII character outside a string or comment");
        if (c == '#') state = State::comment;
        if (c == '"') state = at(i, "\"\"\"") ? State::ml_basic : State::basic;
        if (c == '\'') state = at(i, "'''") ? State::ml_literal : State::literal;
        if (state == State::ml_basic || state == State::ml_literal) i += 2, column += 2;
        break;
      case State::basic:
        if (escaped)
          escaped = false;
        else if (c == '\\')
          escaped = true;
        else if (c == '"')
          state = State::normal;
        break;
      case State::literal:
        if (c == '\'') state = State::normal;
        break;
      case State::ml_basic:
        if (escaped) {
          escaped = false;
          if (c == ' ' || c == '\t' || c == '\r') continuation = true;  // "\  <line break>" trims what follows
        } else if (c == '\\') {
          escaped = true;
        } else if (at(i, "\"\"\"")) {
          while (at(i + 1, "\"")) ++i, ++column;  // up to two quotes may end the content
          i += 2, column += 2, state = State::normal;
        }
        break;
      case State::ml_literal:
        if (at(i, "'''")) {
          while (at(i + 1, "'")) ++i, ++column;
          i += 2, column += 2, state = State::normal;
        }
        break;
      case State::comment: break;
    }
  }
}

}  // namespace

RawEntries read_toml(const std::string& text, const std::string& name) {
  check_lexically(text, name);
  toml::table root;
  try {
    root = toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    throw ConfigError(where(name, e.source()) + ": " + std::string(e.description()));
  } catch (const std::logic_error&) {
    throw ConfigError(name + ": malformed TOML (a table header or key is broken)");
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
