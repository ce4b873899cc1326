// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <istream>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace vncgate::text {

// A line of text as it appeared on screen: row `row` reads `text` from `t` seconds on.
struct TranscriptLine {
  double t = 0;
  int row = 0;
  std::string text;
};

// Replays a transcript.jsonl (TranscriptWriter's format, docs/text.md): keeps the screen as it was at the
// last line read and reports each row whose text changed. A keyframe repeating the screen reports nothing.
// Transcripts come back from storage: sizes are limited and malformed input throws CodecError.
class TranscriptReader {
 public:
  static constexpr std::size_t kMaxLineBytes = 1 << 20;
  static constexpr int kMaxRows = 1024;

  // Applies one JSON line (blank lines are skipped); returns the rows that changed with their new text
  // (blank rows too: a row that cleared).
  std::vector<TranscriptLine> apply(std::string_view json_line);
  // The non-blank lines of a whole transcript, in order.
  static std::vector<TranscriptLine> appeared(std::istream& in);

  // The screen after the last line applied (empty when it is not text).
  const std::vector<std::string>& screen() const { return screen_; }
  bool is_text() const { return text_; }

 private:
  std::vector<TranscriptLine> apply_object(const nlohmann::json& j);

  std::vector<std::string> screen_;
  bool text_ = false;
};

}  // namespace vncgate::text
