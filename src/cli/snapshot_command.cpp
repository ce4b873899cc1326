// SPDX-License-Identifier: Apache-2.0
#include "cli/snapshot_command.hpp"

#include <chrono>
#include <memory>

#include "cli/exit_codes.hpp"
#include "cli/target_options.hpp"
#include "framebuffer/png.hpp"
#include "rfb/blocking_client.hpp"
#include "util/log.hpp"

namespace vncgate::cli {

std::function<int()> add_snapshot_command(CLI::App& app) {
  struct Options {
    TargetOptions target;
    std::string output;
    bool cursor = false;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("snapshot", "write the console's first complete frame as PNG");
  opts->target.add_to(*cmd);
  cmd->add_option("output", opts->output, "PNG file to write")->required();
  cmd->add_flag("--cursor", opts->cursor, "draw the remote pointer into the picture");
  return [opts, cmd]() -> int {
    if (!cmd->parsed()) return -1;
    const auto timeout = std::chrono::milliseconds(static_cast<long long>(opts->target.timeout_s * 1000));
    // Flags first (a usage error should not cost a console ticket), then the provider, right before connecting.
    auto options = opts->target.client_options("");
    auto console = opts->target.acquire();
    options.password = console.password;
    rfb::BlockingClient client(console.endpoint, std::move(options), timeout);
    client.full_update(timeout);
    auto& conn = client.connection();
    framebuffer::PixelBuffer frame = conn.framebuffer();
    if (opts->cursor) framebuffer::composite(frame, conn.cursor(), conn.pointer()[0], conn.pointer()[1]);
    framebuffer::write_png(frame, opts->output);
    spdlog::info("snapshot: {}x{} from '{}' written to {}", frame.width(), frame.height(), conn.server_init().name,
                 opts->output);
    return kOk;
  };
}

}  // namespace vncgate::cli
