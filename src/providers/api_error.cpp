// SPDX-License-Identifier: Apache-2.0
#include "providers/api_error.hpp"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "util/error.hpp"

namespace vncgate::providers {
namespace {

std::string api_message(const std::string& body) {
  const auto json = nlohmann::json::parse(body, nullptr, false);
  if (!json.is_object()) return "";
  // Keystone: {"error": {...}}; Nova: {"itemNotFound": {...}} — one object with a "message".
  for (const auto& [key, value] : json.items()) {
    if (value.is_object() && value.contains("message") && value["message"].is_string()) {
      return value["message"].get<std::string>();
    }
  }
  // Proxmox parameter errors: {"errors": {"vmid": "invalid format"}, "data": null}.
  if (json.contains("errors") && json["errors"].is_object()) {
    std::string out;
    for (const auto& [field, text] : json["errors"].items()) {
      out += (out.empty() ? "" : "; ") + field + ": " + (text.is_string() ? text.get<std::string>() : text.dump());
    }
    return out;
  }
  return "";
}

}  // namespace

std::string describe_failure(const http::Response& response) {
  std::string out = std::to_string(response.status);
  if (!response.reason.empty()) out += " " + response.reason;
  if (auto message = api_message(response.body); !message.empty() && message != response.reason) {
    out += ": " + message;
  }
  return out;
}

Getenv system_getenv() {
  return [](const char* name) { return std::getenv(name); };
}

std::string env_or_file(const Getenv& getenv, const std::string& name) {
  if (const char* value = getenv(name.c_str()); value != nullptr && *value != '\0') return value;
  const std::string file_var = name + "_FILE";
  const char* file = getenv(file_var.c_str());
  if (file == nullptr || *file == '\0') return "";
  std::ifstream in(file);
  std::string line;
  if (!in || !std::getline(in, line)) throw ConfigError("cannot read " + file_var + " (" + file + ")");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

bool env_flag(const Getenv& getenv, const char* name) {
  const char* value = getenv(name);
  if (value == nullptr) return false;
  std::string v(value);
  for (auto& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return v == "1" || v == "true" || v == "yes";
}

}  // namespace vncgate::providers
