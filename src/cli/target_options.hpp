// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "providers/provider.hpp"
#include "providers/provider_set.hpp"
#include "rfb/client_connection.hpp"

namespace vncgate::cli {

// The flags every command that connects to a console shares: TARGET, password file, allow-list, encodings,
// pixel format.
struct TargetOptions {
  std::string target;
  std::string password_file;
  std::vector<std::string> allow;
  std::string encodings;
  std::string pixel_format = "canonical";
  double timeout_s = 10;

  void add_to(CLI::App& app);
  // Resolves TARGET through its provider (direct allow-list, OpenStack, Proxmox) into an endpoint and VNC
  // password; call it right before connecting. Throws UsageError on a bad target, ConfigError on missing
  // provider settings, ProviderError/AuthError/IoError from the provider.
  providers::ConsoleEndpoint acquire() const;
  // Client options for a console whose VNC password is `password`; throws UsageError on bad flags.
  rfb::ClientOptions client_options(const std::string& password) const;

 private:
  mutable std::shared_ptr<providers::ProviderSet> providers_;  // built by the first acquire()
};

}  // namespace vncgate::cli
