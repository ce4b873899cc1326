// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "util/error.hpp"

namespace vncgate::cli {

// Process exit codes shared by every subcommand (documented in README and `--help`).
enum ExitCode : int { kOk = 0, kFailure = 1, kUsage = 2, kConnectFailed = 3, kProtocolError = 4 };

inline int exit_code_for(ErrorCategory category) {
  switch (category) {
    case ErrorCategory::usage:
    case ErrorCategory::config: return kUsage;
    case ErrorCategory::io:
    case ErrorCategory::auth:
    case ErrorCategory::provider: return kConnectFailed;
    case ErrorCategory::protocol: return kProtocolError;
    default: return kFailure;
  }
}

}  // namespace vncgate::cli
