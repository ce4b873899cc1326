// SPDX-License-Identifier: Apache-2.0
#include "cli/text_command.hpp"

#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>

#include "cli/exit_codes.hpp"
#include "cli/target_options.hpp"
#include "fbs/replay.hpp"
#include "rfb/blocking_client.hpp"
#include "text/transcript_writer.hpp"
#include "util/log.hpp"

namespace vncgate::cli {
namespace {

std::shared_ptr<const text::GlyphLibrary> library_with(const std::vector<std::string>& fonts) {
  if (fonts.empty()) return text::GlyphLibrary::installed();
  auto lib = std::make_shared<text::GlyphLibrary>();
  lib->add_files(fonts);
  return lib;
}

}  // namespace

std::function<int()> add_text_command(CLI::App& app) {
  struct Options {
    TargetOptions target;
    std::string wait;
    double wait_s = 60;
    std::vector<std::string> fonts;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("text", "print the console's screen as text (exact glyph matching)");
  opts->target.add_to(*cmd);
  cmd->add_option("--wait", opts->wait, "wait until this text is on the screen, then print it");
  cmd->add_option("--wait-timeout", opts->wait_s, "seconds --wait waits (exit 1 when the text did not appear)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--font", opts->fonts,
                  "read with these font files (PSF, PCF, VGA BIOS image) instead of the installed console fonts");
  return [opts, cmd]() -> int {
    if (!cmd->parsed()) return -1;
    const auto timeout = std::chrono::milliseconds(static_cast<long long>(opts->target.timeout_s * 1000));
    auto library = library_with(opts->fonts);
    auto options = opts->target.client_options("");
    auto console = opts->target.acquire();
    options.password = console.password;
    rfb::BlockingClient client(console.endpoint, std::move(options), timeout);
    client.full_update(timeout);
    text::TextScreen screen(library);
    screen.update(client.framebuffer());
    if (!opts->wait.empty()) {
      // The client keeps no damage list: each update is read whole, which costs about a millisecond.
      const auto deadline =
          std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<long long>(opts->wait_s * 1000));
      while (screen.text().find(opts->wait) == std::string::npos) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
          std::cout << screen.text() << std::flush;
          spdlog::error("text: '{}' did not appear within {} s", opts->wait, opts->wait_s);
          return kFailure;
        }
        if (client.next_update(std::min(left, std::chrono::milliseconds(1000)))) screen.update(client.framebuffer());
      }
    }
    if (!screen.is_text()) {
      spdlog::error("text: the screen ({}x{}) is not a text screen in a known font", client.framebuffer().width(),
                    client.framebuffer().height());
      return kFailure;
    }
    std::cout << screen.text() << std::flush;
    return kOk;
  };
}

std::function<int()> add_transcript_command(CLI::App& app) {
  struct Options {
    std::string input, output;
    double keyframe_s = 10;
    std::vector<std::string> fonts;
    bool no_checkpoints = false;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("transcript", "write the text transcript (JSON lines) of an FBS recording");
  cmd->add_option("input", opts->input, "FBS file")->required()->check(CLI::ExistingFile);
  cmd->add_option("output", opts->output,
                  "transcript to write ('-' = stdout; default: INPUT without .fbs + .transcript.jsonl)");
  cmd->add_option("--keyframe", opts->keyframe_s, "seconds between whole-screen keyframes")->check(CLI::PositiveNumber);
  cmd->add_option("--font", opts->fonts, "read with these font files instead of the installed console fonts");
  cmd->add_flag("--no-checkpoints", opts->no_checkpoints,
                "do not add seek checkpoints to the sidecar <input>.ckpt while reading it (docs/fbs.md §7)");
  return [opts, cmd]() -> int {
    if (!cmd->parsed()) return -1;
    std::string output = opts->output;
    if (output.empty()) {
      output = opts->input;
      if (output.ends_with(".fbs")) output.resize(output.size() - 4);
      output += ".transcript.jsonl";
    }
    std::ofstream file;
    if (output != "-") {
      file.open(output, std::ios::binary | std::ios::trunc);
      if (!file) throw IoError("cannot write " + output);
    }
    std::ostream& out = output == "-" ? std::cout : file;
    text::TranscriptWriter writer(out, {.keyframe_interval_ms = static_cast<std::uint32_t>(opts->keyframe_s * 1000)},
                                  library_with(opts->fonts));
    // The whole file is decoded anyway: its seek checkpoints come almost for free (docs/fbs.md §7).
    fbs::Replay replay(fbs::Reader::open(opts->input),
                       opts->no_checkpoints ? fbs::ReplayOptions{} : fbs::using_and_building_checkpoints(opts->input));
    const auto result = replay.run([&](const fbs::Frame& f) {
      if (!f.painted) return true;  // parts still black: the first painted frame is read whole anyway
      writer.frame(f.ms, f.pixels, framebuffer::Damage(f.damage));
      return true;
    });
    writer.finish(result.last_ms);
    if (output != "-" && !file.good()) throw IoError("cannot write " + output);
    spdlog::info("transcript: {} → {}: {} frames, {} lines, {:.3f} s", opts->input, output, result.frames,
                 writer.lines_written(), result.last_ms / 1000.0);
    if (!result.ok()) {
      spdlog::error("transcript: the recording is damaged ({}{})", result.decode_error,
                    result.read.damaged() ? result.read.message : "");
      return kProtocolError;
    }
    return kOk;
  };
}

}  // namespace vncgate::cli
