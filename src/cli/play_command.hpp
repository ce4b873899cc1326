// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace vncgate::cli {

// `vncgate play in.fbs --listen HOST:PORT [--from S] [--speed X] [--loop]`: serves an FBS recording to any
// VNC viewer. Registers the subcommand; the returned callable runs it and returns the exit code (-1 when
// another subcommand was chosen).
std::function<int()> add_play_command(CLI::App& app);

}  // namespace vncgate::cli
