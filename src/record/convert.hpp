// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <string>

#include "record/encoder_settings.hpp"

namespace vncgate::record {

struct ConvertOptions {
  EncoderSettings encoder;
  std::uint32_t from_ms = 0;
  std::uint32_t to_ms = std::numeric_limits<std::uint32_t>::max();
  // Parts of the recording encoded at once (one core each, at most kMaxConvertThreads, parts of at least
  // 20 s); 0 = the cores this process may run on.
  int threads = 0;
  // Start from the checkpoint sidecar `<input>.ckpt` when converting from a later instant, and add
  // checkpoints to it while decoding (docs/fbs.md §7); false: decode from the start, write nothing.
  bool checkpoints = true;
};

inline constexpr unsigned kMaxConvertThreads = 8;

struct ConvertResult {
  std::int64_t frames = 0;       // written to the MP4 (changes plus keep-alive repeats)
  std::int64_t duration_ms = 0;  // of the MP4
  std::int64_t bytes = 0;
  int width = 0, height = 0;
  std::string damage;          // why the input stopped early ("" when it was read to its end)
  std::uint32_t start_ms = 0;  // the recording time the MP4 starts at (its first completely painted screen)
  int parts = 1;               // encoded at once and joined (ConvertOptions::threads)
};

// Replays an FBS recording through the RFB decoders into one MP4 with the recorder's encoder and timeline
// rules (starting at the first completely painted screen, frames on change, a repeat every second, the last
// frame lasting to the recording's end), as fast as the CPU allows: a recording of more than 40 s is cut into
// parts encoded on several cores at once and joined (each part starts with a keyframe).
// A damaged input (truncated, corrupt) is converted up to the damage and reported in `damage`; an input with
// no picture at all throws ProtocolError. `progress(ms, total_ms)` is called now and then (total 0 = unknown).
ConvertResult convert_fbs(const std::string& input, const std::string& output, const ConvertOptions& options,
                          const std::function<void(std::uint32_t, std::uint32_t)>& progress = {});

}  // namespace vncgate::record
