// SPDX-License-Identifier: Apache-2.0
#include "cli/record_command.hpp"

#include <atomic>
#include <csignal>
#include <memory>
#include <thread>

#include "cli/encoder_options.hpp"
#include "cli/exit_codes.hpp"
#include "cli/target_options.hpp"
#include "record/recorder.hpp"
#include "util/log.hpp"

namespace vncgate::cli {

namespace {

std::atomic<bool> interrupted{false};

std::string clock_text(std::int64_t ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%02lld:%02lld.%lld", static_cast<long long>(ms / 60000),
                static_cast<long long>(ms / 1000 % 60), static_cast<long long>(ms / 100 % 10));
  return text;
}

}  // namespace

std::function<int()> add_record_command(CLI::App& app) {
  struct Options {
    TargetOptions target;
    EncoderOptions encoder;
    std::string output;
    std::string name = "segment-{n}";
    double duration_s = 60;
    int count = 1;
    double reconnect_timeout_s = 60;
    bool cursor = false;
    bool fbs = false;
    bool no_transcript = false;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("record", "record a console into gap-free MP4 segments (+ JSON sidecars)");
  opts->target.add_to(*cmd);
  cmd->add_option("-o,--output", opts->output, "directory for the segments")->required();
  cmd->add_option("--duration", opts->duration_s, "seconds per segment")->check(CLI::Range(0.5, 86400.0));
  cmd->add_option("--count", opts->count, "number of segments")->check(CLI::Range(1, 100000));
  cmd->add_option("--name", opts->name, "segment file name; {n} = 001, 002, …");
  cmd->add_option("--reconnect-timeout", opts->reconnect_timeout_s,
                  "give up when the console stays unreachable this many seconds")
      ->check(CLI::Range(0.0, 86400.0));
  cmd->add_flag("--cursor", opts->cursor, "draw the remote pointer into the video");
  cmd->add_flag("--fbs", opts->fbs, "also write the lossless server stream (recording.fbs + .idx; docs/fbs.md)");
  cmd->add_flag("--no-transcript", opts->no_transcript,
                "do not write <segment>.transcript.jsonl (the console's text, read exactly; docs/text.md)");
  opts->encoder.add_to(*cmd);

  return [opts, cmd]() -> int {
    if (!cmd->parsed()) return -1;
    if (opts->name.find('/') != std::string::npos || opts->name.find("{n}") == std::string::npos)
      throw UsageError("--name must contain {n} and no '/'");
    record::RecordOptions options;
    options.output_dir = opts->output;
    options.name_pattern = opts->name;
    options.duration_ms = static_cast<std::int64_t>(opts->duration_s * 1000);
    options.count = opts->count;
    options.encoder = opts->encoder.resolve();
    options.capture.fps = options.encoder.fps;
    options.capture.cursor = opts->cursor;
    options.capture.give_up = std::chrono::milliseconds(static_cast<long long>(opts->reconnect_timeout_s * 1000));
    options.target_label = io::redact_url(opts->target.target);
    options.fbs = opts->fbs;
    options.transcript = !opts->no_transcript;
    options.first_frame_timeout = std::chrono::milliseconds(static_cast<long long>(opts->target.timeout_s * 1000));
    // Flags first (a usage error should not cost a console ticket); the provider is asked again for every
    // (re)connection: console tokens and Proxmox ports are one-shot.
    const auto client_options = opts->target.client_options("");
    record::Recorder recorder(
        [opts, client_options] {
          auto console = opts->target.acquire();
          auto with_password = client_options;
          with_password.password = console.password;
          return record::Console{std::move(console.endpoint), std::move(with_password)};
        },
        options);

    // Ctrl-C / SIGTERM end the job cleanly: the open segment is closed at that instant.
    interrupted = false;
    auto on_signal = [](int) { interrupted = true; };
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    std::atomic<bool> finished{false};
    std::thread watcher([&] {
      while (!finished) {
        if (interrupted) {
          recorder.cancel();
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    });
    struct Join {
      std::atomic<bool>& finished;
      std::thread& thread;
      ~Join() {
        finished = true;
        thread.join();
      }
    } join{finished, watcher};

    ProgressLine line;
    auto results = recorder.run([&](const record::Progress& p) {
      const double seconds = p.elapsed_ms / 1000.0;
      const double mbit = seconds > 0 ? p.bytes * 8 / seconds / 1e6 : 0;
      line.show(fmt::format("segment {}/{}  {} / {}  frames {}  {:.2f} Mbit/s{}", p.segment, p.count,
                            clock_text(p.elapsed_ms), clock_text(p.total_ms), p.frames, mbit,
                            p.dropped ? fmt::format("  ({} skipped)", p.dropped) : ""));
    });
    spdlog::info("record: {} segment(s) in {}{}", results.size(), options.output_dir,
                 interrupted ? " (interrupted)" : "");
    return kOk;
  };
}

}  // namespace vncgate::cli
