// SPDX-License-Identifier: Apache-2.0
#include "util/yaml_document.hpp"

#include <algorithm>
#include <new>

#include "util/error.hpp"

namespace vncgate {

YamlDocument::YamlDocument(const std::string& text, std::string name) : name_(std::move(name)) {
  if (yaml_parser_initialize(&parser_) == 0) throw std::bad_alloc();
  yaml_parser_set_input_string(&parser_, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  if (yaml_parser_load(&parser_, &doc_) == 0) {
    const std::string problem = parser_.problem != nullptr ? parser_.problem : "YAML syntax error";
    const auto line = parser_.problem_mark.line + 1, column = parser_.problem_mark.column + 1;
    yaml_parser_delete(&parser_);
    throw ConfigError(name_ + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + problem);
  }
}

YamlDocument::~YamlDocument() {
  yaml_document_delete(&doc_);
  yaml_parser_delete(&parser_);
}

yaml_node_t* YamlDocument::root() { return yaml_document_get_root_node(&doc_); }

yaml_node_t* YamlDocument::node(int index) {
  auto* n = yaml_document_get_node(&doc_, index);
  if (n == nullptr) throw ConfigError(name_ + ": malformed YAML document");
  if (++visited_ > kMaxNodes)
    throw ConfigError(name_ + ": YAML document too large (over " + std::to_string(kMaxNodes) + " nodes; aliases?)");
  return n;
}

void YamlDocument::enter(int depth, const yaml_node_t* at, int limit) const {
  if (depth > std::min(limit, kMaxDepth)) throw ConfigError(where(at) + ": nested too deeply");
}

bool YamlDocument::has_more_documents() {
  yaml_document_t next;
  if (yaml_parser_load(&parser_, &next) == 0) return false;
  const bool more = yaml_document_get_root_node(&next) != nullptr;
  next_line_ = static_cast<int>(next.start_mark.line + 1);
  yaml_document_delete(&next);
  return more;
}

std::string YamlDocument::where(const yaml_node_t* node) const {
  return name_ + ":" + std::to_string(node->start_mark.line + 1) + ":" + std::to_string(node->start_mark.column + 1);
}

std::string YamlDocument::scalar(const yaml_node_t* node) {
  return std::string(reinterpret_cast<const char*>(node->data.scalar.value), node->data.scalar.length);
}

}  // namespace vncgate
