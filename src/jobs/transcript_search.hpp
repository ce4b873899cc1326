// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vncgate::jobs {

// A line of a segment's transcript as it is indexed: the text a row showed from `t_ms` into the segment on.
struct IndexedLine {
  std::int64_t t_ms = 0;
  std::string text;
};

// Limits of a search (the API's 400s).
constexpr std::size_t kMaxSearchQueryBytes = 256;
constexpr int kMaxSearchWords = 16;
constexpr int kMaxSearchLimit = 200;
// Lines indexed per segment at most (a transcript of a console scrolling for an hour at full speed).
constexpr std::size_t kMaxIndexedLines = 200000;
constexpr std::size_t kMaxIndexedLineBytes = 1024;

// Transcript lines that contain every word of `words` (whole words, case-insensitive: SQLite FTS5's unicode61
// tokenizer, PostgreSQL's 'simple' text search configuration), newest first.
struct SearchQuery {
  std::string words;
  std::optional<std::string> server;         // the job's server, exactly
  std::optional<std::int64_t> from_unix_ms;  // the line appeared at or after
  std::optional<std::int64_t> to_unix_ms;    // ... and before
  int limit = 50;                            // clamped to 1..kMaxSearchLimit
  std::optional<std::string> cursor;         // SearchPage::next_cursor of the previous page
};

struct SearchHit {
  std::string job_id, server;
  int segment = 0;
  std::int64_t t_ms = 0;        // into the segment (its MP4's own time)
  std::int64_t at_unix_ms = 0;  // wall clock
  std::string line;
};

struct SearchPage {
  std::vector<SearchHit> hits;
  std::optional<std::string> next_cursor;  // nullopt on the last page
};

// The words of a query: split on white space, each kept only when it has a letter or digit (punctuation
// alone matches nothing). Throws UsageError when the query is too long, has too many words or none.
std::vector<std::string> search_words(const std::string& words);

// Keyset cursor of a page: the last hit's (at_unix_ms, id).
std::string search_cursor(std::int64_t at_unix_ms, std::int64_t id);
// nullopt when `cursor` is not one.
std::optional<std::pair<std::int64_t, std::int64_t>> parse_search_cursor(const std::string& cursor);

}  // namespace vncgate::jobs
