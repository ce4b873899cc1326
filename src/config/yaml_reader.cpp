// SPDX-License-Identifier: Apache-2.0
// YAML through util/yaml_document (node-count and depth caps). Only what a config needs: mappings of sections,
// scalars, sequences.
#include <set>

#include "config/raw_value.hpp"
#include "util/error.hpp"
#include "util/yaml_document.hpp"

namespace vncgate::config::detail {
namespace {

constexpr int kMaxDepth = 32;  // a config nests a few levels; lists of lists are already wrong

class Walker {
 public:
  explicit Walker(YamlDocument& doc) : doc_(doc) {}

  RawValue convert(const yaml_node_t* n, int depth) {
    doc_.enter(depth, n, kMaxDepth);
    RawValue out;
    out.where = doc_.where(n);
    switch (n->type) {
      case YAML_SCALAR_NODE: {
        out.text = YamlDocument::scalar(n);
        // A plain `~`/`null` is YAML's null: the same as an empty value.
        if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && (out.text == "~" || out.text == "null"))
          out.text.clear();
        break;
      }
      case YAML_SEQUENCE_NODE:
        out.kind = RawKind::list;
        for (auto* item = n->data.sequence.items.start; item < n->data.sequence.items.top; ++item)
          out.items.push_back(convert(doc_.node(*item), depth + 1));
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
      auto* key = doc_.node(pair->key);
      if (key->type != YAML_SCALAR_NODE) throw ConfigError(doc_.where(key) + ": keys must be plain names");
      auto name = YamlDocument::scalar(key);
      if (!seen.insert(name).second) throw ConfigError(prefix + name + ": set twice (" + doc_.where(key) + ")");
      out.emplace_back(std::move(name), doc_.node(pair->value));
    }
    return out;
  }

 private:
  YamlDocument& doc_;
};

}  // namespace

RawEntries read_yaml(const std::string& text, const std::string& name) {
  YamlDocument doc(text, name);
  RawEntries out;
  const auto* root = doc.root();
  if (root == nullptr) return out;  // an empty file: all defaults
  // A second document ("---") would be ignored silently; say so instead.
  if (doc.has_more_documents())
    throw ConfigError(name + ":" + std::to_string(doc.next_document_line()) + ": only one YAML document is allowed");
  Walker walker(doc);
  if (root->type == YAML_SCALAR_NODE && YamlDocument::scalar(root).empty()) return out;
  if (root->type != YAML_MAPPING_NODE)
    throw ConfigError(doc.where(root) + ": expected a mapping of sections (server:, jobs:, …)");
  for (const auto& [section, node] : walker.entries(root, "")) {
    if (node->type != YAML_MAPPING_NODE) {
      auto value = walker.convert(node, 1);
      // `targets:` with nothing under it is an empty section, not a value.
      if (value.kind == RawKind::text && value.text.empty()) value.kind = RawKind::table;
      out.push_back({section, std::move(value)});
      continue;
    }
    out.push_back({section, RawValue{RawKind::table, {}, {}, doc.where(node)}});
    for (const auto& [key, value] : walker.entries(node, section + "."))
      out.push_back({section + "." + key, walker.convert(value, 2)});
  }
  return out;
}

}  // namespace vncgate::config::detail
