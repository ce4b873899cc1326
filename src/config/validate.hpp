// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "config/service_config.hpp"

namespace vncgate::config::detail {

// Checks what single keys cannot: pairs (tls_cert/tls_key, width/height), a public bind without API keys,
// URL and target forms, readable TLS files. Normalizes "sqlite:PATH" to PATH and drops a trailing '/' from
// public_url. Throws ConfigError "<key>: <reason>".
void validate(ServiceConfig& config);

}  // namespace vncgate::config::detail
