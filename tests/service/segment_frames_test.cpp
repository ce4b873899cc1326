// SPDX-License-Identifier: Apache-2.0
// Reading a stored object by ranges as a seekable stream (the FBS recording of a job kept only in S3). The
// whole path against s3rver and a real guest is in tests/integration/service_api_test.cpp.
#include "service/segment_frames.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "support/process.hpp"
#include "util/error.hpp"

namespace vncgate::service {
namespace {

// One object in memory that records the ranges read from it, and can be told to fail or to claim a size that
// is not its own.
class OneObject final : public storage::Storage {
 public:
  explicit OneObject(std::string bytes, std::optional<std::uint64_t> size = std::nullopt)
      : bytes_(std::move(bytes)), size_(size.value_or(bytes_.size())) {}
  std::vector<storage::ByteRange> reads;
  bool failing = false;

  std::string describe() const override { return "one object"; }
  void ensure_bucket(const std::string&) override {}
  storage::PutResult put_file(const std::string&, const std::string&, const std::string&) override { return {}; }
  void probe(const std::string&, std::chrono::milliseconds) override {}
  std::vector<storage::ObjectInfo> list(const std::string&, const std::string&) override { return {}; }
  std::optional<storage::ObjectInfo> stat(const std::string&, const std::string& key) override {
    if (key != "object") return std::nullopt;
    return storage::ObjectInfo{key, size_, "\"tag\""};
  }
  std::optional<std::string> read(const std::string&, const std::string& key,
                                  std::optional<storage::ByteRange> range) override {
    if (failing) throw StorageError("GET object: connection reset");
    if (key != "object") return std::nullopt;
    const auto r = range.value_or(storage::ByteRange{0, bytes_.size()});
    reads.push_back(r);
    if (r.offset >= bytes_.size()) return std::string();
    return bytes_.substr(r.offset, r.length.value_or(bytes_.size()));
  }

 private:
  std::string bytes_;
  std::uint64_t size_;
};

std::string random_text(std::size_t n) {
  std::mt19937 rng(7);
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(rng());
  return out;
}

TEST(RangeStream, SeeksAndReadsLikeAStringStream) {
  const auto bytes = random_text(3'000'000);
  auto object = std::make_shared<OneObject>(bytes);
  auto source = stored_range_source(object, "bucket", "object", 64 << 10);
  ASSERT_TRUE(source);
  EXPECT_EQ(source->size, bytes.size());
  auto stream = range_stream(std::move(*source));
  std::istringstream expected(bytes);
  std::mt19937 rng(11);
  for (int i = 0; i < 300; ++i) {
    const auto at = std::uniform_int_distribution<std::size_t>(0, bytes.size() + 10)(rng);
    const auto n = std::uniform_int_distribution<std::size_t>(0, 200'000)(rng);
    if (i % 3 != 0) {  // also reading on from where the last read ended
      stream->clear();
      expected.clear();
      stream->seekg(static_cast<std::streamoff>(at));
      expected.seekg(static_cast<std::streamoff>(at));
      ASSERT_EQ(static_cast<bool>(*stream), static_cast<bool>(expected)) << "seek to " << at;
      if (!expected) continue;
    }
    std::string got(n, '\0'), want(n, '\0');
    stream->read(got.data(), static_cast<std::streamsize>(n));
    expected.read(want.data(), static_cast<std::streamsize>(n));
    ASSERT_EQ(stream->gcount(), expected.gcount()) << "read " << n << " at " << at;
    got.resize(static_cast<std::size_t>(stream->gcount()));
    want.resize(static_cast<std::size_t>(expected.gcount()));
    ASSERT_EQ(got, want);
    ASSERT_EQ(stream->eof(), expected.eof());
    if (!stream->eof()) {
      ASSERT_EQ(stream->tellg(), expected.tellg());
    }
  }
}

TEST(RangeStream, KnownFirstBytesAreNotReadAgain) {
  const auto bytes = random_text(200'000);
  auto object = std::make_shared<OneObject>(bytes);
  auto stream = range_stream(*stored_range_source(object, "bucket", "object", 4096), bytes.substr(0, 4096));
  std::string got(4096, '\0');
  stream->read(got.data(), 4096);
  EXPECT_EQ(got, bytes.substr(0, 4096));
  EXPECT_TRUE(object->reads.empty()) << "the head came from memory";
  std::string on(10'000, '\0');
  stream->read(on.data(), 10'000);
  EXPECT_EQ(on, bytes.substr(4096, 10'000)) << "and the stream reads on across its end";
  stream->seekg(100);
  stream->read(got.data(), 50);
  EXPECT_EQ(got.substr(0, 50), bytes.substr(100, 50));
  ASSERT_FALSE(object->reads.empty());
  for (const auto& r : object->reads) EXPECT_GE(r.offset, 4096u);
}

TEST(RangeStream, AJumpIsOneSmallReadAndReadingOnDoublesItUpToAMebibyte) {
  auto object = std::make_shared<OneObject>(random_text(10 << 20));
  auto stream = range_stream(*stored_range_source(object, "bucket", "object", 64 << 10));
  char header[12];
  stream->read(header, sizeof header);
  stream->seekg(5'000'000);
  std::string rest(4 << 20, '\0');
  stream->read(rest.data(), static_cast<std::streamsize>(rest.size()));
  ASSERT_EQ(stream->gcount(), 4 << 20);
  ASSERT_GE(object->reads.size(), 3u);
  EXPECT_EQ(object->reads[0].offset, 0u);
  EXPECT_EQ(object->reads[0].length, 64u << 10) << "the header costs one small read";
  EXPECT_EQ(object->reads[1].offset, 5'000'000u);
  EXPECT_EQ(object->reads[1].length, 64u << 10) << "so does the jump";
  EXPECT_EQ(object->reads[2].length, 128u << 10);
  EXPECT_EQ(object->reads.back().length, 1u << 20) << "reading on grows to a MiB";
  EXPECT_LE(object->reads.size(), 10u) << "4 MiB in growing reads";
}

TEST(RangeStream, AStorageFaultIsAnErrorNotAnEndOfFile) {
  auto object = std::make_shared<OneObject>(random_text(1 << 20));
  auto stream = range_stream(*stored_range_source(object, "bucket", "object"));
  object->failing = true;
  char buffer[100];
  EXPECT_THROW(stream->read(buffer, sizeof buffer), StorageError);
  EXPECT_FALSE(stored_range_source(object, "bucket", "missing"));
}

TEST(RangeStream, WithoutAStatTheEndIsWhereReadsComeBackShort) {
  const auto bytes = random_text(300'000);
  auto object = std::make_shared<OneObject>(bytes);
  auto source = stored_range_source(object, "bucket", "object", 4096, false);
  ASSERT_TRUE(source);
  EXPECT_EQ(source->size, kUnknownSize);
  auto stream = range_stream(std::move(*source));
  stream->seekg(250'000);
  std::string rest(100'000, '\0');
  stream->read(rest.data(), static_cast<std::streamsize>(rest.size()));
  EXPECT_EQ(stream->gcount(), 50'000);
  EXPECT_TRUE(stream->eof());
  EXPECT_EQ(rest.substr(0, 50'000), bytes.substr(250'000));
  // A missing object shows at the first read, as a fault.
  auto missing = range_stream(*stored_range_source(object, "bucket", "missing", 4096, false));
  char c;
  EXPECT_THROW(missing->read(&c, 1), StorageError);
}

TEST(RangeStream, AnObjectShorterThanItsSizeIsAFault) {
  auto object = std::make_shared<OneObject>(std::string(1000, 'x'), 1 << 20);  // replaced while read
  auto stream = range_stream(*stored_range_source(object, "b", "object", 4096));
  stream->seekg(500'000);
  char buffer[10];
  EXPECT_THROW(stream->read(buffer, sizeof buffer), StorageError);
}

TEST(SeekCache, TrimmingDropsTheLeastRecentlyUsedCopiesAndEmptyDirectories) {
  namespace fs = std::filesystem;
  vncgate::test::TempDir dir("vncgate-seek-cache");
  const fs::path root = dir.path();
  const auto now = fs::file_time_type::clock::now();
  auto put = [&](const std::string& name, std::size_t bytes, int minutes_ago) {
    fs::create_directories((root / name).parent_path());
    std::ofstream(root / name) << std::string(bytes, 'x');
    fs::last_write_time(root / name, now - std::chrono::minutes(minutes_ago));
  };
  put("job-a/old.ckpt", 1000, 30);
  put("job-b/older.json", 500, 40);
  put("job-b/recent.head", 300, 1);
  put("job-c/newest.ckpt", 1000, 0);
  trim_seek_cache(root, 2500);
  EXPECT_FALSE(fs::exists(root / "job-b/older.json")) << "the oldest goes first";
  EXPECT_TRUE(fs::exists(root / "job-a/old.ckpt")) << "2300 bytes left: enough";
  trim_seek_cache(root, 1500);
  EXPECT_FALSE(fs::exists(root / "job-a")) << "its last file went: the directory too";
  EXPECT_TRUE(fs::exists(root / "job-b/recent.head"));
  EXPECT_TRUE(fs::exists(root / "job-c/newest.ckpt"));
  trim_seek_cache(root / "no-such-dir", 0);  // nothing there: nothing happens
}

}  // namespace
}  // namespace vncgate::service
