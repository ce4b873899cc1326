// SPDX-License-Identifier: Apache-2.0
#include "cli/encoder_options.hpp"

#include <unistd.h>

#include <cstdio>

#include "util/error.hpp"

namespace vncgate::cli {

void EncoderOptions::add_to(CLI::App& app) {
  auto& s = settings;
  auto* size_option = app.add_option("--size", size, "output WxH (even numbers); default: the console's size");
  app.add_option("--scale", s.scale, "scale the console size by F (e.g. 0.5)")
      ->check(CLI::Range(0.1, 4.0))
      ->excludes(size_option);
  app.add_option("--fps", s.fps, "frame-rate cap; frames only when the screen changes")->check(CLI::Range(0.1, 120.0));
  app.add_option("--crf", s.crf, "x264 quality, 0-51, lower is better")->check(CLI::Range(0, 51));
  app.add_option("--qp", s.qp, "constant x264 quantizer instead of --crf")->check(CLI::Range(0, 69));
  app.add_option("--preset", s.preset, "x264 preset (ultrafast … veryslow)")
      ->check(CLI::IsMember(
          {"ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo"}));
  app.add_option("--tune", s.tune,
                 "x264 tune: psnr (default, sharpest text), stillimage, animation, film, grain, ssim, ''")
      ->check(CLI::IsMember({"", "stillimage", "animation", "film", "grain", "psnr", "ssim"}));
  auto* chroma_option = app.add_option("--chroma", chroma,
                                       "444: full colour resolution, sharp coloured text (default); 420: plays "
                                       "in every player, coloured text smeared")
                            ->check(CLI::IsMember({"444", "420"}));
  // Kept for scripts written when 4:2:0 was the default.
  app.add_flag("--yuv444", yuv444, "same as --chroma 444 (the default)")->excludes(chroma_option);
  app.add_flag("--lossless", s.lossless, "bit-exact RGB (libx264rgb, qp 0; large files, High 4:4:4 profile)");
  app.add_option("--keyframe-interval", s.keyframe_interval_s,
                 "a keyframe at least every fps x this many frames (10 s of a busy screen)")
      ->check(CLI::Range(1, 600));
}

record::EncoderSettings EncoderOptions::resolve() const {
  auto s = settings;
  if (!chroma.empty()) s.chroma = *record::parse_chroma(chroma);  // IsMember checked it
  if (yuv444) s.chroma = record::Chroma::yuv444;
  if (!size.empty()) {
    auto parsed = record::parse_size(size);
    if (!parsed) throw UsageError("--size must be WxH with even numbers in 16..8192, not '" + size + "'");
    std::tie(s.width, s.height) = *parsed;
  }
  return s;
}

ProgressLine::ProgressLine() : enabled_(isatty(STDERR_FILENO) == 1) {}

ProgressLine::~ProgressLine() {
  if (shown_) std::fputc('\n', stderr);
}

void ProgressLine::show(const std::string& text) {
  if (!enabled_) return;
  std::fprintf(stderr, "\r\033[K%s", text.c_str());
  std::fflush(stderr);
  shown_ = true;
}

}  // namespace vncgate::cli
