// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <spdlog/spdlog.h>

#include <string>

namespace vncgate::log {

// All modules log through spdlog's default logger (stderr). Secrets (passwords, tickets, tokens) are never
// passed to it; callers log endpoints with their query strings redacted (io::redact_url).
void init(bool verbose, bool quiet);
// The level a configuration asks for ("trace" … "error"); -v/-q given to init() win over it.
void set_level(const std::string& level);

}  // namespace vncgate::log
