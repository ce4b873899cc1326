// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <vector>

#include "config/service_config.hpp"

namespace vncgate::config {

// What SIGHUP does to a running `vncgate serve` (docs/operations.md, "Reload"): reads the configuration again
// from the same sources (file, environment, flags) and applies what can change without disturbing recordings
// or connections: `log.level`. Every other section that changed is named in a warning and takes effect at the
// next restart. A configuration that does not load is refused with its error; the running one stays.
class ConfigReloader {
 public:
  struct Outcome {
    bool loaded = false;                     // false: the new configuration had an error, nothing changed
    std::string error;                       // why it did not load
    std::vector<std::string> needs_restart;  // "[server]", "[targets]", … changed but not applied
    bool log_level_changed = false;
  };

  ConfigReloader(Sources sources, ServiceConfig running);
  // Not thread-safe: one caller (the signal thread).
  Outcome reload();

 private:
  Sources sources_;
  ServiceConfig running_;  // as started, plus what reloads applied
};

}  // namespace vncgate::config
