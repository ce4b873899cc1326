// SPDX-License-Identifier: Apache-2.0
// vncgate: VNC console gateway and recorder. Wires the subcommands; each lives in its own file.
#include <malloc.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <vector>

#include "cli/convert_command.hpp"
#include "cli/exit_codes.hpp"
#include "cli/play_command.hpp"
#include "cli/proxy_command.hpp"
#include "cli/record_command.hpp"
#include "cli/serve_command.hpp"
#include "cli/snapshot_command.hpp"
#include "cli/text_command.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

int main(int argc, char** argv) {
  using namespace vncgate;
  // Pictures and frame buffers (> 256 KiB) come from mmap and go back to the system when freed. glibc's
  // default threshold grows with every such free, after which they stay in the heap: a gateway whose idle
  // sessions release their pictures (hibernation) would keep the memory anyway.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  CLI::App app{"vncgate — record and proxy VM consoles over VNC"};
  app.require_subcommand(1);
  app.fallthrough();  // -v/-q work after the subcommand too
  app.set_version_flag("--version", "vncgate 0.1.0");
  bool verbose = false, quiet = false;
  app.add_flag("-v,--verbose", verbose, "debug logging");
  app.add_flag("-q,--quiet", quiet, "warnings and errors only");
  std::vector<std::function<int()>> commands{cli::add_snapshot_command(app), cli::add_record_command(app),
                                             cli::add_convert_command(app),  cli::add_play_command(app),
                                             cli::add_serve_command(app),    cli::add_proxy_command(app),
                                             cli::add_text_command(app),     cli::add_transcript_command(app)};
  app.footer("Exit codes: 0 ok, 2 usage, 3 connect/auth failure, 4 protocol error, 1 other failure.");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? cli::kOk : cli::kUsage;
  }
  log::init(verbose, quiet);
  try {
    for (auto& run : commands)
      if (int rc = run(); rc >= 0) return rc;
    return cli::kUsage;
  } catch (const Error& e) {
    spdlog::error("{} error: {}", to_string(e.category()), e.what());
    return cli::exit_code_for(e.category());
  } catch (const std::exception& e) {
    spdlog::error("internal error: {}", e.what());
    return cli::kFailure;
  }
}
