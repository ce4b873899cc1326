// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "io/endpoint.hpp"
#include "rfb/client_connection.hpp"

namespace vncgate::cli {

// The flags every command that connects to a console shares: TARGET, password file, encodings, pixel format.
struct TargetOptions {
  std::string target;
  std::string password_file;
  std::string encodings;
  std::string pixel_format = "canonical";
  double timeout_s = 10;

  void add_to(CLI::App& app);
  // Resolves TARGET into an endpoint and client options; throws UsageError on bad flags.
  io::Endpoint endpoint() const;
  rfb::ClientOptions client_options() const;
};

}  // namespace vncgate::cli
