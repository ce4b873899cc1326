// SPDX-License-Identifier: Apache-2.0
// Transcript search, part of the JobStore contract: the same cases on SQLite (FTS5) and PostgreSQL (tsvector).
#include <stdexcept>

#include "jobs/job_store_contract.hpp"
#include "jobs/sample_jobs.hpp"
#include "util/error.hpp"

namespace vncgate::jobs::test {
namespace {

using enum JobState;

// A recording job of `server` whose segment 1 (starting at sample_result(1).start_unix_ms) has `lines` indexed.
Job indexed_job(JobStore& store, const Worker& worker, const std::string& server,
                const std::vector<IndexedLine>& lines) {
  auto job = store.create(sample_job(server));
  auto claimed = store.claim(worker);
  if (!claimed || claimed->job.id != job.id) throw std::logic_error("indexed_job: another job was queued");
  const auto& fence = claimed->lease.fence;
  store.transition(fence, recording);
  store.upsert_segment(fence, {.index = 1, .state = SegmentState::recording});
  store.finish_segment(fence, 1, sample_result(1));
  if (!store.index_transcript(job.id, 1, lines)) throw std::logic_error("indexed_job: not indexed");
  return job;
}

std::vector<std::string> lines_of(const SearchPage& page) {
  std::vector<std::string> out;
  for (const auto& hit : page.hits) out.push_back(hit.line);
  return out;
}

}  // namespace

TEST_P(JobStoreContract, Search_WholeWordsAnyCaseAnyOrder_WithJobSegmentAndTime) {
  const auto job = indexed_job(
      store_, worker_, "demo",
      {{0, "Linux version 6.1.0-amd64"}, {1500, "vm-0001 login: root"}, {3000, "Kernel panic - not syncing: VFS"}});
  const auto start = sample_result(1).start_unix_ms;
  auto page = store_.search({.words = "LOGIN:"});
  ASSERT_EQ(page.hits.size(), 1u);
  EXPECT_EQ(page.hits[0].job_id, job.id);
  EXPECT_EQ(page.hits[0].server, "demo");
  EXPECT_EQ(page.hits[0].segment, 1);
  EXPECT_EQ(page.hits[0].t_ms, 1500);
  EXPECT_EQ(page.hits[0].at_unix_ms, start + 1500);
  EXPECT_EQ(page.hits[0].line, "vm-0001 login: root");
  EXPECT_FALSE(page.next_cursor);
  EXPECT_EQ(lines_of(store_.search({.words = "panic kernel"})),
            std::vector<std::string>{"Kernel panic - not syncing: VFS"});
  EXPECT_TRUE(store_.search({.words = "log"}).hits.empty()) << "whole words only";
  EXPECT_TRUE(store_.search({.words = "kernel login"}).hits.empty()) << "every word in one line";
  // Nothing the user types is query syntax: quotes, stars and operators are words like any other.
  EXPECT_EQ(store_.search({.words = "\"login\""}).hits.size(), 1u);
  EXPECT_EQ(store_.search({.words = "root OR nothing"}).hits.size(), 0u);
  EXPECT_NO_THROW(store_.search({.words = "NEAR( a b ) : - ^ { }"}));
}

TEST_P(JobStoreContract, Search_IndexingAgainReplaces_AndUnknownSegmentsAreRefused) {
  const auto job = indexed_job(store_, worker_, "demo", {{0, "first version"}});
  ASSERT_TRUE(store_.index_transcript(job.id, 1, {{10, "second version"}}));
  EXPECT_TRUE(store_.search({.words = "first"}).hits.empty());
  EXPECT_EQ(store_.search({.words = "version"}).hits.size(), 1u);
  EXPECT_FALSE(store_.index_transcript(job.id, 2, {{0, "x"}}));
  EXPECT_FALSE(store_.index_transcript("0123456789abcdef0123456789abcdef", 1, {{0, "x"}}));
}

TEST_P(JobStoreContract, Search_FiltersByServerAndTime_AndPagesNewestFirst) {
  std::vector<IndexedLine> lines;
  for (int i = 0; i < 7; ++i) lines.push_back({i * 1000, "boot step " + std::to_string(i)});
  lines.push_back({6000, "boot step again"});  // the same instant as step 6: the cursor breaks the tie
  indexed_job(store_, worker_, "demo", lines);
  indexed_job(store_, worker_, "other", {{500, "boot elsewhere"}});
  const auto start = sample_result(1).start_unix_ms;

  EXPECT_EQ(store_.search({.words = "boot"}).hits.size(), 9u);
  EXPECT_EQ(lines_of(store_.search({.words = "boot", .server = "other"})), std::vector<std::string>{"boot elsewhere"});
  EXPECT_EQ(store_.search({.words = "boot", .server = "demo", .from_unix_ms = start + 2000, .to_unix_ms = start + 4000})
                .hits.size(),
            2u);  // steps 2 and 3: [from, to)

  // Pages of two are the one big page cut up: newest first, none twice, none lost.
  const auto all = lines_of(store_.search({.words = "boot", .server = "demo"}));
  ASSERT_EQ(all.size(), 8u);
  std::vector<std::string> paged;
  std::optional<std::string> cursor;
  for (int pages = 0; pages < 10; ++pages) {
    auto page = store_.search({.words = "boot", .server = "demo", .limit = 2, .cursor = cursor});
    ASSERT_LE(page.hits.size(), 2u);
    for (auto& line : lines_of(page)) paged.push_back(line);
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  EXPECT_EQ(paged, all);
  EXPECT_EQ(paged.back(), "boot step 0");
}

TEST_P(JobStoreContract, Search_BadQueriesAreUsageErrors_AndOddLinesAreStored) {
  EXPECT_THROW(store_.search({.words = ""}), UsageError);
  EXPECT_THROW(store_.search({.words = " :: -- "}), UsageError);
  EXPECT_THROW(store_.search({.words = std::string(kMaxSearchQueryBytes + 1, 'a')}), UsageError);
  EXPECT_THROW(store_.search({.words = "a b c d e f g h i j k l m n o p q"}), UsageError);
  EXPECT_THROW(store_.search({.words = "x", .cursor = "bogus"}), UsageError);
  EXPECT_THROW(store_.search({.words = "x", .from_unix_ms = 2, .to_unix_ms = 1}), UsageError);

  // Control characters (a NUL is no text to PostgreSQL) and overlong lines, cut on a UTF-8 boundary.
  std::string nul = "before";
  nul += '\0';
  nul += "after";
  const std::string long_line = "long " + std::string(1018, 'x') + "\xc3\xa9\xc3\xa9";  // an é across byte 1024
  indexed_job(store_, worker_, "demo", {{0, nul}, {1, long_line}});
  EXPECT_EQ(lines_of(store_.search({.words = "after"})), std::vector<std::string>{"before after"});
  auto hits = store_.search({.words = "long"}).hits;
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].line.size(), 1023u);  // 1024 would split the é
  EXPECT_EQ(hits[0].line.back(), 'x');
}

}  // namespace vncgate::jobs::test
