// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <yaml.h>

#include <cstddef>
#include <memory>
#include <string>

namespace vncgate {

// The one YAML loader (libyaml's document API) for the service config and clouds.yaml. Aliases make a document
// a graph whose walk can blow up exponentially (billion laughs: 600 bytes, gigabytes of tree), so every walk
// goes through node(), which counts the nodes visited, and enter(), which bounds the depth; both throw
// ConfigError naming the file.
class YamlDocument {
 public:
  static constexpr std::size_t kMaxNodes = 100000;
  static constexpr int kMaxDepth = 64;

  // Parses the first document of `text`; ConfigError "name:line:column: problem" on syntax errors.
  YamlDocument(const std::string& text, std::string name);
  ~YamlDocument();
  YamlDocument(const YamlDocument&) = delete;
  YamlDocument& operator=(const YamlDocument&) = delete;

  yaml_node_t* root();  // nullptr for an empty document
  yaml_node_t* node(int index);
  // Throws when `depth` (the caller's nesting level at `at`) is over kMaxDepth or `limit` if smaller.
  void enter(int depth, const yaml_node_t* at, int limit = kMaxDepth) const;
  // True when `text` holds a second document with content (callers that allow only one say so).
  bool has_more_documents();
  int next_document_line() const { return next_line_; }

  std::string where(const yaml_node_t* node) const;
  static std::string scalar(const yaml_node_t* node);
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  yaml_parser_t parser_{};
  yaml_document_t doc_{};
  std::size_t visited_ = 0;
  int next_line_ = 0;
};

}  // namespace vncgate
