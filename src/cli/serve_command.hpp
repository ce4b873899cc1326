// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace vncgate::cli {

// `vncgate serve [--config FILE] [flags]`: the recording service and its REST API (docs/configuration.md).
std::function<int()> add_serve_command(CLI::App& app);

}  // namespace vncgate::cli
