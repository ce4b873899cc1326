// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace vncgate::cli {

// `vncgate proxy --listen HOST:PORT [--ws HOST:PORT] --target TARGET [--record DIR] [--view-only] …`: one live
// gateway session served to any number of RFB (TCP) and WebSocket (noVNC) viewers. Registers the subcommand;
// the returned callable runs it and returns the exit code (-1 when another subcommand was chosen).
std::function<int()> add_proxy_command(CLI::App& app);

}  // namespace vncgate::cli
