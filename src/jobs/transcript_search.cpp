// SPDX-License-Identifier: Apache-2.0
#include "jobs/transcript_search.hpp"

#include <cctype>
#include <charconv>

#include "util/error.hpp"

namespace vncgate::jobs {

std::vector<std::string> search_words(const std::string& words) {
  if (words.size() > kMaxSearchQueryBytes)
    throw UsageError("the search query is longer than " + std::to_string(kMaxSearchQueryBytes) + " bytes");
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < words.size()) {
    const auto start = words.find_first_not_of(" \t\r\n\f\v", i);
    if (start == std::string::npos) break;
    auto end = words.find_first_of(" \t\r\n\f\v", start);
    if (end == std::string::npos) end = words.size();
    std::string word = words.substr(start, end - start);
    i = end;
    // Letters and digits, or any non-ASCII byte (a letter of another script): what the tokenizers index.
    bool indexable = false;
    for (unsigned char c : word) indexable |= std::isalnum(c) || c >= 0x80;
    if (!indexable) continue;
    out.push_back(std::move(word));
  }
  if (out.empty()) throw UsageError("the search query has no word to look for");
  if (static_cast<int>(out.size()) > kMaxSearchWords)
    throw UsageError("the search query has more than " + std::to_string(kMaxSearchWords) + " words");
  return out;
}

std::string search_cursor(std::int64_t at_unix_ms, std::int64_t id) {
  return std::to_string(at_unix_ms) + "." + std::to_string(id);
}

std::optional<std::pair<std::int64_t, std::int64_t>> parse_search_cursor(const std::string& cursor) {
  const auto dot = cursor.find('.');
  if (dot == std::string::npos || cursor.size() > 48) return std::nullopt;
  std::int64_t at = 0, id = 0;
  const char* p = cursor.data();
  auto r1 = std::from_chars(p, p + dot, at);
  auto r2 = std::from_chars(p + dot + 1, p + cursor.size(), id);
  if (r1.ec != std::errc() || r1.ptr != p + dot || r2.ec != std::errc() || r2.ptr != p + cursor.size() || id < 0)
    return std::nullopt;
  return std::pair{at, id};
}

}  // namespace vncgate::jobs
