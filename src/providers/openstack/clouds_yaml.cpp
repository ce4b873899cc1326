// SPDX-License-Identifier: Apache-2.0
#include "providers/openstack/clouds_yaml.hpp"

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "providers/openstack/keystone.hpp"
#include "util/error.hpp"
#include "util/yaml_document.hpp"

namespace vncgate::providers::openstack {
namespace {

nlohmann::json to_json(YamlDocument& doc, const yaml_node_t* node, int depth) {
  if (node == nullptr) return nullptr;
  doc.enter(depth, node);
  switch (node->type) {
    case YAML_SCALAR_NODE: return YamlDocument::scalar(node);
    case YAML_SEQUENCE_NODE: {
      auto out = nlohmann::json::array();
      for (auto* item = node->data.sequence.items.start; item < node->data.sequence.items.top; ++item)
        out.push_back(to_json(doc, doc.node(*item), depth + 1));
      return out;
    }
    case YAML_MAPPING_NODE: {
      auto out = nlohmann::json::object();
      for (auto* pair = node->data.mapping.pairs.start; pair < node->data.mapping.pairs.top; ++pair) {
        const auto key = to_json(doc, doc.node(pair->key), depth + 1);
        if (key.is_string()) out[key.get<std::string>()] = to_json(doc, doc.node(pair->value), depth + 1);
      }
      return out;
    }
    default: return nullptr;
  }
}

std::string text_of(const nlohmann::json& object, const char* key) {
  if (!object.is_object() || !object.contains(key)) return "";
  const auto& v = object[key];
  return v.is_string() ? v.get<std::string>() : "";
}

}  // namespace

nlohmann::json parse_yaml(const std::string& text, const std::string& what) {
  YamlDocument doc(text, what);
  return to_json(doc, doc.root(), 0);
}

std::vector<std::string> clouds_yaml_paths(const Getenv& getenv) {
  std::vector<std::string> paths;
  if (const char* file = getenv("OS_CLIENT_CONFIG_FILE"); file != nullptr && *file != '\0') paths.emplace_back(file);
  paths.emplace_back("clouds.yaml");
  if (const char* home = getenv("HOME"); home != nullptr && *home != '\0')
    paths.push_back(std::string(home) + "/.config/openstack/clouds.yaml");
  paths.emplace_back("/etc/openstack/clouds.yaml");
  return paths;
}

std::optional<KeystoneSettings> settings_from_clouds_yaml(const Getenv& getenv) {
  const char* name = getenv("OS_CLOUD");
  if (name == nullptr || *name == '\0') return std::nullopt;
  for (const auto& path : clouds_yaml_paths(getenv)) {
    std::ifstream in(path);
    if (!in) continue;
    std::stringstream text;
    text << in.rdbuf();
    const auto yaml = parse_yaml(text.str(), path);
    if (!yaml.is_object() || !yaml.contains("clouds") || !yaml["clouds"].contains(name)) continue;
    const auto& cloud = yaml["clouds"][name];
    const auto auth = cloud.is_object() && cloud.contains("auth") ? cloud["auth"] : nlohmann::json::object();
    KeystoneSettings s;
    s.auth_type = text_of(cloud, "auth_type");
    s.auth_type_origin = "auth_type of cloud '" + std::string(name) + "' in " + path;
    s.auth_url = text_of(auth, "auth_url");
    s.username = text_of(auth, "username");
    s.user_id = text_of(auth, "user_id");
    s.password = text_of(auth, "password");
    s.user_domain_name = text_of(auth, "user_domain_name");
    s.user_domain_id = text_of(auth, "user_domain_id");
    s.project_name = text_of(auth, "project_name");
    s.project_id = text_of(auth, "project_id");
    s.project_domain_name = text_of(auth, "project_domain_name");
    s.project_domain_id = text_of(auth, "project_domain_id");
    s.application_credential_id = text_of(auth, "application_credential_id");
    s.application_credential_name = text_of(auth, "application_credential_name");
    s.application_credential_secret = text_of(auth, "application_credential_secret");
    s.token = text_of(auth, "token");
    s.region_name = text_of(cloud, "region_name");
    if (auto i = text_of(cloud, "interface"); !i.empty()) s.interface = i;
    s.tls.ca_file = text_of(cloud, "cacert");
    const auto verify = text_of(cloud, "verify");
    s.tls.insecure = verify == "false" || verify == "False" || verify == "no";
    return s;
  }
  throw ConfigError(std::string("OpenStack: OS_CLOUD=") + name + " but no clouds.yaml (" +
                    clouds_yaml_paths(getenv).front() + ", ~/.config/openstack, /etc/openstack) has that cloud");
}

}  // namespace vncgate::providers::openstack
