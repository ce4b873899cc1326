// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace vncgate::cli {

// `vncgate convert in.fbs out.mp4 [encoder flags] [--from T --to T]`.
std::function<int()> add_convert_command(CLI::App& app);

}  // namespace vncgate::cli
