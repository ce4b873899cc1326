// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace vncgate::cli {

// `vncgate record TARGET -o DIR --duration S --count N …`: gap-free MP4 segments from one connection.
std::function<int()> add_record_command(CLI::App& app);

}  // namespace vncgate::cli
