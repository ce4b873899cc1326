// SPDX-License-Identifier: Apache-2.0
#include "record/encoder_settings.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace vncgate::record {

std::optional<Chroma> parse_chroma(std::string_view text) {
  if (text == "444" || text == "yuv444p") return Chroma::yuv444;
  if (text == "420" || text == "yuv420p") return Chroma::yuv420;
  return std::nullopt;
}

const char* chroma_name(Chroma chroma) { return chroma == Chroma::yuv444 ? "444" : "420"; }

std::optional<std::pair<int, int>> parse_size(const std::string& text) {
  int w = 0, h = 0;
  char tail = 0;
  if (std::sscanf(text.c_str(), "%dx%d%c", &w, &h, &tail) != 2) return std::nullopt;
  if (w < 16 || h < 16 || w > 8192 || h > 8192 || w % 2 || h % 2) return std::nullopt;
  return std::pair{w, h};
}

std::pair<int, int> output_size(const EncoderSettings& settings, int source_w, int source_h) {
  if (settings.width > 0 && settings.height > 0) return {settings.width, settings.height};
  auto even = [](double v) { return std::max(16, static_cast<int>(std::lround(v / 2)) * 2); };
  return {even(source_w * settings.scale), even(source_h * settings.scale)};
}

}  // namespace vncgate::record
