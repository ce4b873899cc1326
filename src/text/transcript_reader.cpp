// SPDX-License-Identifier: Apache-2.0
#include "text/transcript_reader.hpp"

#include <charconv>
#include <nlohmann/json.hpp>

#include "util/error.hpp"

namespace vncgate::text {

namespace {

int row_number(const std::string& key) {
  int row = -1;
  const auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), row);
  if (ec != std::errc() || end != key.data() + key.size() || row < 0 || row >= TranscriptReader::kMaxRows)
    throw CodecError("transcript: bad row number '" + key.substr(0, 16) + "'");
  return row;
}

}  // namespace

std::vector<TranscriptLine> TranscriptReader::apply(std::string_view json_line) {
  if (json_line.size() > kMaxLineBytes) throw CodecError("transcript: a line over 1 MiB");
  if (json_line.find_first_not_of(" \t\r\n") == std::string_view::npos) return {};
  const auto j = nlohmann::json::parse(json_line, nullptr, false);
  try {
    return apply_object(j);
  } catch (const nlohmann::json::exception& e) {  // a field of the wrong type
    throw CodecError(std::string("transcript: ") + e.what());
  }
}

std::vector<TranscriptLine> TranscriptReader::apply_object(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("t") || !j["t"].is_number() || j["t"].get<double>() < 0)
    throw CodecError("transcript: a line is not an object with a time");
  const double t = j["t"].get<double>();
  std::vector<TranscriptLine> changed;
  auto set = [&](int row, std::string text) {
    if (row >= static_cast<int>(screen_.size())) screen_.resize(row + 1);
    if (screen_[row] == text) return;
    screen_[row] = text;
    changed.push_back({t, row, std::move(text)});
  };
  if (j.value("key", false)) {
    text_ = j.value("text", false);
    const auto lines = text_ && j.contains("lines") && j["lines"].is_array() ? j["lines"] : nlohmann::json::array();
    if (lines.size() > kMaxRows) throw CodecError("transcript: a keyframe over 1024 rows");
    const int rows = static_cast<int>(lines.size());
    for (int r = 0; r < rows; ++r) {
      if (!lines[r].is_string()) throw CodecError("transcript: a keyframe line is not a string");
      set(r, lines[r].get<std::string>());
    }
    for (int r = rows; r < static_cast<int>(screen_.size()); ++r) set(r, "");
    screen_.resize(rows);
    return changed;
  }
  if (!j.contains("rows") || !j["rows"].is_object()) throw CodecError("transcript: a line with neither key nor rows");
  for (const auto& [key, value] : j["rows"].items()) {
    if (!value.is_string()) throw CodecError("transcript: a row is not a string");
    set(row_number(key), value.get<std::string>());
  }
  return changed;
}

std::vector<TranscriptLine> TranscriptReader::appeared(std::istream& in) {
  TranscriptReader reader;
  std::vector<TranscriptLine> out;
  std::string line;
  while (std::getline(in, line)) {
    for (auto& l : reader.apply(line))
      if (!l.text.empty()) out.push_back(std::move(l));
  }
  return out;
}

}  // namespace vncgate::text
