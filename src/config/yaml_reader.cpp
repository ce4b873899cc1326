// SPDX-License-Identifier: Apache-2.0
// YAML via libyaml's document API. Only what a config needs: mappings of sections, scalars, sequences.
#include <yaml.h>

#include <memory>
#include <set>

#include "config/raw_value.hpp"
#include "util/error.hpp"

namespace vncgate::config::detail {
namespace {

// Aliases make the document a graph; following them could blow up (billion laughs), so the walk is capped.
constexpr int kMaxDepth = 32;
constexpr std::size_t kMaxNodes = 100000;

class Walker {
 public:
  Walker(yaml_document_t* doc, const std::string& name) : doc_(doc), name_(name) {}

  std::string where(const yaml_node_t* node) const {
    return name_ + ":" + std::to_string(node->start_mark.line + 1) + ":" + std::to_string(node->start_mark.column + 1);
  }

  yaml_node_t* node(int index) {
    auto* n = yaml_document_get_node(doc_, index);
    if (n == nullptr) throw ConfigError(name_ + ": malformed YAML document");
    if (++visited_ > kMaxNodes) throw ConfigError(name_ + ": YAML document too large (aliases?)");
    return n;
  }

  static std::string scalar(const yaml_node_t* n) {
    return std::string(reinterpret_cast<const char*>(n->data.scalar.value), n->data.scalar.length);
  }

  RawValue convert(const yaml_node_t* n, int depth) {
    if (depth > kMaxDepth) throw ConfigError(where(n) + ": nested too deeply");
    RawValue out;
    out.where = where(n);
    switch (n->type) {
      case YAML_SCALAR_NODE: {
        out.text = scalar(n);
        // A plain `~`/`null` is YAML's null: the same as an empty value.
        if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && (out.text == "~" || out.text == "null"))
          out.text.clear();
        break;
      }
      case YAML_SEQUENCE_NODE:
        out.kind = RawKind::list;
        for (auto* item = n->data.sequence.items.start; item < n->data.sequence.items.top; ++item)
          out.items.push_back(convert(node(*item), depth + 1));
        break;
      case YAML_MAPPING_NODE: out.kind = RawKind::table; break;
      default: out.kind = RawKind::other; break;
    }
    return out;
  }

  // The mapping's keys and values; duplicate keys are errors (libyaml keeps both silently).
  std::vector<std::pair<std::string, yaml_node_t*>> entries(const yaml_node_t* mapping, const std::string& prefix) {
    std::vector<std::pair<std::string, yaml_node_t*>> out;
    std::set<std::string> seen;
    for (auto* pair = mapping->data.mapping.pairs.start; pair < mapping->data.mapping.pairs.top; ++pair) {
      auto* key = node(pair->key);
      if (key->type != YAML_SCALAR_NODE) throw ConfigError(where(key) + ": keys must be plain names");
      auto name = scalar(key);
      if (!seen.insert(name).second) throw ConfigError(prefix + name + ": set twice (" + where(key) + ")");
      out.emplace_back(std::move(name), node(pair->value));
    }
    return out;
  }

 private:
  yaml_document_t* doc_;
  const std::string& name_;
  std::size_t visited_ = 0;
};

}  // namespace

RawEntries read_yaml(const std::string& text, const std::string& name) {
  yaml_parser_t parser;
  if (yaml_parser_initialize(&parser) == 0) throw std::bad_alloc();
  std::unique_ptr<yaml_parser_t, void (*)(yaml_parser_t*)> parser_guard(&parser, yaml_parser_delete);
  yaml_parser_set_input_string(&parser, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  yaml_document_t doc;
  if (yaml_parser_load(&parser, &doc) == 0) {
    throw ConfigError(name + ":" + std::to_string(parser.problem_mark.line + 1) + ":" +
                      std::to_string(parser.problem_mark.column + 1) + ": " +
                      (parser.problem != nullptr ? parser.problem : "YAML syntax error"));
  }
  std::unique_ptr<yaml_document_t, void (*)(yaml_document_t*)> doc_guard(&doc, yaml_document_delete);
  RawEntries out;
  const auto* root = yaml_document_get_root_node(&doc);
  if (root == nullptr) return out;  // an empty file: all defaults
  // A second document ("---") would be ignored silently; say so instead.
  yaml_document_t next;
  if (yaml_parser_load(&parser, &next) != 0) {
    const bool more = yaml_document_get_root_node(&next) != nullptr;
    const auto line = next.start_mark.line + 1;
    yaml_document_delete(&next);
    if (more) throw ConfigError(name + ":" + std::to_string(line) + ": only one YAML document is allowed");
  }
  Walker walker(&doc, name);
  if (root->type == YAML_SCALAR_NODE && Walker::scalar(root).empty()) return out;
  if (root->type != YAML_MAPPING_NODE)
    throw ConfigError(walker.where(root) + ": expected a mapping of sections (server:, jobs:, …)");
  for (const auto& [section, node] : walker.entries(root, "")) {
    if (node->type != YAML_MAPPING_NODE) {
      auto value = walker.convert(node, 1);
      // `targets:` with nothing under it is an empty section, not a value.
      if (value.kind == RawKind::text && value.text.empty()) value.kind = RawKind::table;
      out.push_back({section, std::move(value)});
      continue;
    }
    out.push_back({section, RawValue{RawKind::table, {}, {}, walker.where(node)}});
    for (const auto& [key, value] : walker.entries(node, section + "."))
      out.push_back({section + "." + key, walker.convert(value, 2)});
  }
  return out;
}

}  // namespace vncgate::config::detail
