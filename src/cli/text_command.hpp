// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace vncgate::cli {

// `vncgate text TARGET`: prints the console's screen as text (src/text), or waits for a text on it.
std::function<int()> add_text_command(CLI::App& app);

// `vncgate transcript FILE.fbs [OUT.jsonl]`: the transcript (docs/transcript.md) of an FBS recording.
std::function<int()> add_transcript_command(CLI::App& app);

}  // namespace vncgate::cli
