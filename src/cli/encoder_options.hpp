// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "record/encoder_settings.hpp"

namespace vncgate::cli {

// The video flags `record` and `convert` share: --size/--scale, --fps, --crf, --preset, --tune, --chroma
// (--yuv444), --lossless.
struct EncoderOptions {
  record::EncoderSettings settings;
  std::string size;
  std::string chroma;  // "444" / "420"; "" = the default
  bool yuv444 = false;

  void add_to(CLI::App& app);
  // The settings with --size and --chroma applied; throws UsageError on a malformed size.
  record::EncoderSettings resolve() const;
};

// A one-line progress display on a terminal (stderr), silent otherwise.
class ProgressLine {
 public:
  ProgressLine();
  ~ProgressLine();
  void show(const std::string& text);
  bool enabled() const { return enabled_; }

 private:
  bool enabled_;
  bool shown_ = false;
};

}  // namespace vncgate::cli
