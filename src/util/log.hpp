// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <spdlog/spdlog.h>

namespace vncgate::log {

// All modules log through spdlog's default logger (stderr). Secrets (passwords, tickets, tokens) are never
// passed to it; callers log endpoints with their query strings redacted (io::redact_url).
void init(bool verbose, bool quiet);

}  // namespace vncgate::log
