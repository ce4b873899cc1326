// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace vncgate::cli {

// `vncgate snapshot TARGET out.png`: registers the subcommand; the returned callable runs it and returns the
// process exit code.
std::function<int()> add_snapshot_command(CLI::App& app);

}  // namespace vncgate::cli
