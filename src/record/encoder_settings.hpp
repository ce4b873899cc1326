// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <optional>
#include <string>

namespace vncgate::record {

// How a recording is encoded. Defaults are tuned for console text: x264 `stillimage` keeps glyph edges sharp,
// `zerolatency` (no lookahead, no B-frames) puts every frame on disk at once so a crash loses under a second,
// and the picture is never scaled unless asked.
struct EncoderSettings {
  int width = 0;        // output size; 0 = the console's size at the start of the job
  int height = 0;
  double scale = 1.0;   // applied to the console size when width/height are 0
  double fps = 10;      // cap: at most this many frames a second, only when the screen changed
  int qp = -1;          // constant quantizer instead of CRF (benchmarks compare like with like); -1 = off
  int crf = 18;         // x264 constant rate factor (lower = better); 18 keeps console text above 45 dB
  std::string preset = "veryfast";
  std::string tune = "stillimage";
  bool yuv444 = false;  // full chroma (sharper coloured text; not every player decodes High 4:4:4)
  bool lossless = false;  // libx264rgb at qp 0: the RGB pixels exactly (High 4:4:4 Predictive)
  int keyframe_interval_s = 10;  // a keyframe at least this often, for seeking
};

// Parses "WxH" (both even and within 16..8192); nullopt when malformed.
std::optional<std::pair<int, int>> parse_size(const std::string& text);

// The output size for a console of `source_w` x `source_h`: explicit size, else scaled, rounded to even
// (H.264 4:2:0 needs even dimensions).
std::pair<int, int> output_size(const EncoderSettings& settings, int source_w, int source_h);

}  // namespace vncgate::record
