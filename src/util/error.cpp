// SPDX-License-Identifier: Apache-2.0
#include "util/error.hpp"

namespace vncgate {

std::string_view to_string(ErrorCategory category) {
  switch (category) {
    case ErrorCategory::protocol: return "protocol";
    case ErrorCategory::auth: return "auth";
    case ErrorCategory::io: return "io";
    case ErrorCategory::provider: return "provider";
    case ErrorCategory::codec: return "codec";
    case ErrorCategory::storage: return "storage";
    case ErrorCategory::config: return "config";
    case ErrorCategory::usage: return "usage";
  }
  return "unknown";
}

}  // namespace vncgate
