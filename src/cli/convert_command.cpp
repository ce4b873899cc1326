// SPDX-License-Identifier: Apache-2.0
#include "cli/convert_command.hpp"

#include <chrono>
#include <cmath>
#include <limits>
#include <memory>

#include "cli/encoder_options.hpp"
#include "cli/exit_codes.hpp"
#include "record/convert.hpp"
#include "util/log.hpp"

namespace vncgate::cli {

std::function<int()> add_convert_command(CLI::App& app) {
  struct Options {
    EncoderOptions encoder;
    std::string input, output;
    double from_s = 0;
    double to_s = -1;
    int threads = 0;
    bool no_checkpoints = false;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("convert", "turn an FBS recording into an MP4 (faster than real time)");
  cmd->add_option("input", opts->input, "FBS file (FBS 001.001 from vncgate, or 001.000 from vncproxy/rfbproxy)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("output", opts->output, "MP4 file to write")->required();
  cmd->add_option("--from", opts->from_s, "start at this many seconds into the recording")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--to", opts->to_s, "stop at this many seconds into the recording")->check(CLI::PositiveNumber);
  cmd->add_option("--threads", opts->threads,
                  "encode this many parts of the recording at once (default: one per core this process may use, "
                  "at most 8; 1 = one piece)")
      ->check(CLI::Range(1, static_cast<int>(record::kMaxConvertThreads)));
  cmd->add_flag("--no-checkpoints", opts->no_checkpoints,
                "neither use nor write the checkpoint sidecar <input>.ckpt (a later --from then decodes the "
                "recording from its start)");
  opts->encoder.add_to(*cmd);

  return [opts, cmd]() -> int {
    if (!cmd->parsed()) return -1;
    record::ConvertOptions options;
    options.encoder = opts->encoder.resolve();
    options.threads = opts->threads;
    options.checkpoints = !opts->no_checkpoints;
    options.from_ms = static_cast<std::uint32_t>(std::llround(opts->from_s * 1000));
    if (opts->to_s >= 0) options.to_ms = static_cast<std::uint32_t>(std::llround(opts->to_s * 1000));
    ProgressLine line;
    const auto started = std::chrono::steady_clock::now();
    auto last_shown = started - std::chrono::seconds(1);
    const auto result =
        record::convert_fbs(opts->input, opts->output, options, [&](std::uint32_t ms, std::uint32_t total) {
          const auto now = std::chrono::steady_clock::now();
          if (now - last_shown < std::chrono::milliseconds(200)) return;
          last_shown = now;
          const double elapsed = std::chrono::duration<double>(now - started).count();
          const double done = (ms - options.from_ms) / 1000.0;
          const double speed = elapsed > 0 ? done / elapsed : 0;
          if (total > options.from_ms) {
            const double all = (total - options.from_ms) / 1000.0;
            const int width = 30, filled = static_cast<int>(width * std::min(1.0, done / all));
            line.show(fmt::format("[{}{}] {:.1f} / {:.1f} s  {:.0f}x", std::string(filled, '#'),
                                  std::string(width - filled, '.'), done, all, speed));
          } else {
            line.show(fmt::format("{:.1f} s converted  {:.0f}x", done, speed));
          }
        });
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    spdlog::info("convert: {} → {}: {}x{}, {:.3f} s, {} frames, {} bytes in {:.2f} s ({:.0f}x real time{})",
                 opts->input, opts->output, result.width, result.height, result.duration_ms / 1000.0, result.frames,
                 result.bytes, elapsed, elapsed > 0 ? result.duration_ms / 1000.0 / elapsed : 0.0,
                 result.parts > 1 ? fmt::format(", {} parts at once", result.parts) : "");
    if (!result.damage.empty()) {
      spdlog::error("convert: the recording is damaged ({}); {} holds everything up to {:.3f} s", result.damage,
                    opts->output, (options.from_ms + result.duration_ms) / 1000.0);
      return kProtocolError;
    }
    return kOk;
  };
}

}  // namespace vncgate::cli
