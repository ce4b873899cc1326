// SPDX-License-Identifier: Apache-2.0
// Shared by the provider clients: turning an API's error answer into one line a user can act on.
#pragma once

#include <functional>
#include <string>

#include "http/http_client.hpp"

namespace vncgate::providers {

// "404 Not Found: Instance abc could not be found." — the status, reason phrase and the API's own message when
// the body carries one (Keystone {"error":{"message"}}, Nova {"itemNotFound":{"message"}}, Proxmox
// {"errors":{field: text}}). Bodies are not echoed otherwise (they may be large or hold secrets).
std::string describe_failure(const http::Response& response);

// Reads an environment variable; tests pass their own.
using Getenv = std::function<const char*(const char*)>;
Getenv system_getenv();
// The variable's value, else the first line of the file named by VAR_FILE, else "". Throws ConfigError when
// the file cannot be read.
std::string env_or_file(const Getenv& getenv, const std::string& name);
bool env_flag(const Getenv& getenv, const char* name);  // 1/true/yes (any case)

}  // namespace vncgate::providers
