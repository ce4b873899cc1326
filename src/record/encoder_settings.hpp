// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace vncgate::record {

// Chroma resolution of the H.264 picture. 4:4:4 keeps coloured text sharp (High 4:4:4 Predictive profile:
// Chromium and ffmpeg-based players decode it; Safari, hardware decoders and some Firefox builds do not);
// 4:2:0 plays everywhere but halves colour resolution both ways, which smears coloured glyphs
// (docs/recording.md).
enum class Chroma { yuv444, yuv420 };

// "444" / "420" (also "yuv444p" / "yuv420p"); nullopt otherwise.
std::optional<Chroma> parse_chroma(std::string_view text);
// "444" / "420".
const char* chroma_name(Chroma chroma);

// How a recording is encoded. Defaults are chosen for console text by measurement (docs/performance.md,
// "Coloured text"): full chroma and x264 `psnr` (psy and adaptive quantisation off, which otherwise trade
// glyph fidelity for "visual energy") keep glyphs and their colours sharp, `zerolatency` (no lookahead, no
// B-frames) puts every frame on disk at once so a crash loses under a second, and the picture is never scaled
// unless asked.
struct EncoderSettings {
  int width = 0;  // output size; 0 = the console's size at the start of the job
  int height = 0;
  double scale = 1.0;  // applied to the console size when width/height are 0
  double fps = 10;     // cap: at most this many frames a second, only when the screen changed
  int qp = -1;         // constant quantizer instead of CRF (benchmarks compare like with like); -1 = off
  int crf = 16;        // x264 constant rate factor (lower = better); 16: coloured text >= 48 dB from the keyframe on
  std::string preset = "veryfast";
  std::string tune = "psnr";
  Chroma chroma = Chroma::yuv444;  // 4:2:0 for players without High 4:4:4 (see Chroma)
  bool lossless = false;           // libx264rgb at qp 0: the RGB pixels exactly (High 4:4:4 Predictive)
  int keyframe_interval_s = 10;    // a keyframe at least every fps x this many frames (seeking decodes at most that)
  // After this many seconds without a change the encoder is closed: its pictures are most of a recording's
  // memory. Repeats are then copies of a skip frame
  // (SkipFrames), and the next change reopens the encoder with a keyframe. 0 = keep the encoder open.
  int hibernate_after_s = 30;
  std::string x264_params;  // more libx264 options, "key=value:…" (benchmarks, experiments); "" = none
};

// Parses "WxH" (both even and within 16..8192); nullopt when malformed.
std::optional<std::pair<int, int>> parse_size(const std::string& text);

// The output size for a console of `source_w` x `source_h`: explicit size, else scaled, rounded to even
// (H.264 4:2:0 needs even dimensions; 4:4:4 keeps the same rule so switching chroma never changes the size).
std::pair<int, int> output_size(const EncoderSettings& settings, int source_w, int source_h);

}  // namespace vncgate::record
