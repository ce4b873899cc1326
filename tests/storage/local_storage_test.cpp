// SPDX-License-Identifier: Apache-2.0
#include "storage/local_storage.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "util/error.hpp"

namespace vncgate::storage {
namespace {

// Unit tests link no test-support library (it brings process handling); a scratch directory is all we need.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "vncgate-storage-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_file(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

std::string pattern(std::size_t size) {
  std::string out(size, '\0');
  for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<char>((i * 131 + 7) % 251);
  return out;
}

TEST(LocalStorage, PutFile_StoresUnderBucketAndKeyAndKeepsTheLocalFile) {
  TempDir dir;
  LocalStorage local(dir.file("root"));
  Storage& storage = local;  // the interface carries the default arguments
  write_file(dir.file("segment.mp4"), pattern(100000));
  storage.ensure_bucket("job-1");
  const auto result = storage.put_file("job-1", "rec/0001.mp4", dir.file("segment.mp4"));
  EXPECT_EQ(result.size, 100000u);
  EXPECT_EQ(read_file(dir.file("root/job-1/rec/0001.mp4")), pattern(100000));
  EXPECT_TRUE(std::filesystem::exists(dir.file("segment.mp4")));
}

TEST(LocalStorage, List_ReturnsSortedKeysUnderPrefixAndSkipsTemporaryFiles) {
  TempDir dir;
  LocalStorage local(dir.file("root"));
  Storage& storage = local;  // the interface carries the default arguments
  write_file(dir.file("f"), "abc");
  storage.put_file("job-1", "b.mp4", dir.file("f"));
  storage.put_file("job-1", "a/x.json", dir.file("f"));
  storage.put_file("job-1", "a/w.mp4", dir.file("f"));
  write_file(dir.file("root/job-1/a/.vncgate-tmp-1-2-y"), "partial");
  const auto all = storage.list("job-1", "");
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].key, "a/w.mp4");
  EXPECT_EQ(all[1].key, "a/x.json");
  EXPECT_EQ(all[2].key, "b.mp4");
  EXPECT_EQ(all[2].size, 3u);
  EXPECT_EQ(storage.list("job-1", "a/").size(), 2u);
  EXPECT_TRUE(storage.list("no-such-bucket", "").empty());
}

TEST(LocalStorage, Read_ReturnsRangesAndNulloptWhenMissing) {
  TempDir dir;
  LocalStorage local(dir.file("root"));
  Storage& storage = local;  // the interface carries the default arguments
  write_file(dir.file("f"), "0123456789");
  storage.put_file("job-1", "k", dir.file("f"));
  EXPECT_EQ(storage.read("job-1", "k"), "0123456789");
  EXPECT_EQ(storage.read("job-1", "k", ByteRange{2, 3}), "234");
  EXPECT_EQ(storage.read("job-1", "k", ByteRange{7, std::nullopt}), "789");
  EXPECT_EQ(storage.read("job-1", "k", ByteRange{20, 5}), "");
  EXPECT_EQ(storage.read("job-1", "missing"), std::nullopt);
  EXPECT_EQ(storage.stat("job-1", "k")->size, 10u);
  EXPECT_EQ(storage.stat("job-1", "missing"), std::nullopt);
}

TEST(LocalStorage, Probe_CreatesAFreshRootAndFailsWhenTheRootIsNoDirectory) {
  TempDir dir;
  write_file(dir.file("file"), "x");
  LocalStorage unusable(dir.file("file"));
  EXPECT_THROW(unusable.probe("job-1", std::chrono::seconds(1)), StorageError);
  LocalStorage storage(dir.file("root"));
  EXPECT_NO_THROW(storage.probe("job-1", std::chrono::seconds(1)));
  storage.ensure_bucket("job-1");
  EXPECT_NO_THROW(storage.probe("job-1", std::chrono::seconds(1)));
  EXPECT_NO_THROW(storage.probe("no-such-bucket", std::chrono::seconds(1)));
}

TEST(LocalStorage, PutFile_ThrowsStorageErrorWhenTheLocalFileIsMissing) {
  TempDir dir;
  LocalStorage local(dir.file("root"));
  Storage& storage = local;  // the interface carries the default arguments
  EXPECT_THROW(storage.put_file("job-1", "k", dir.file("missing")), StorageError);
}

TEST(StorageKeys, CheckKey_RejectsKeysThatEscapeOrAreAmbiguous) {
  EXPECT_NO_THROW(check_key("job-1/0001.mp4"));
  for (const std::string& bad :
       std::vector<std::string>{"", "/abs", "a/../b", "..", "a//b", "a/", "./a", std::string("a\nb")})
    EXPECT_THROW(check_key(bad), StorageError) << bad;
}

TEST(StorageKeys, CheckBucket_FollowsS3NamingRules) {
  EXPECT_NO_THROW(check_bucket("3f2a9c1e-job"));
  for (const std::string& bad :
       std::vector<std::string>{"ab", "Upper", "-lead", "trail-", "a..b", "under_score", std::string(64, 'a')})
    EXPECT_THROW(check_bucket(bad), StorageError) << bad;
}

GetEnv env_of(std::map<std::string, std::string> values) {
  return [values = std::move(values)](const std::string& name) -> std::optional<std::string> {
    const auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

TEST(StorageSite, FileUrl_IsBucketPerJob) {
  TempDir dir;
  const auto site = StorageSite::open("file://" + dir.path(), env_of({}));
  EXPECT_EQ(site.storage().describe(), "file://" + dir.path());
  const auto where = site.locate_job("job-7");
  EXPECT_EQ(where.bucket, "job-7");
  EXPECT_EQ(where.prefix, "");
}

TEST(StorageSite, S3Url_WithBucketAndPrefixSharesOneBucket) {
  TempDir dir;
  write_file(dir.file("secret"), "s3cr3t\n");
  const auto site =
      StorageSite::open("s3://minio.local:9000/recordings/vncgate?tls=off&region=eu-west-1",
                        env_of({{"VNCGATE_S3_ACCESS_KEY", "AK"}, {"VNCGATE_S3_SECRET_KEY_FILE", dir.file("secret")}}));
  EXPECT_EQ(site.storage().describe(), "s3://minio.local:9000 (http, path-style, region eu-west-1)");
  const auto where = site.locate_job("job-7");
  EXPECT_EQ(where.bucket, "recordings");
  EXPECT_EQ(where.prefix, "vncgate/job-7/");
  EXPECT_EQ(site.storage().describe().find("s3cr3t"), std::string::npos);
}

TEST(StorageSite, S3Url_VirtualHostStylePutsTheBucketIntoTheHost) {
  const auto site = StorageSite::open("s3://s3.example.com?style=virtual",
                                      env_of({{"VNCGATE_S3_ACCESS_KEY", "AK"}, {"VNCGATE_S3_SECRET_KEY", "SK"}}));
  EXPECT_EQ(site.storage().describe(), "s3://s3.example.com (https, virtual-host, region us-east-1)");
  EXPECT_EQ(site.locate_job("job-7").bucket, "job-7");
}

TEST(StorageSite, Open_RejectsBadUrlsAndMissingCredentials) {
  const auto creds = env_of({{"VNCGATE_S3_ACCESS_KEY", "AK"}, {"VNCGATE_S3_SECRET_KEY", "SK"}});
  EXPECT_THROW(StorageSite::open("ftp://x", creds), ConfigError);
  EXPECT_THROW(StorageSite::open("file://relative", creds), ConfigError);
  EXPECT_THROW(StorageSite::open("s3://host?style=sideways", creds), ConfigError);
  EXPECT_THROW(StorageSite::open("s3://host/Bad_Bucket", creds), ConfigError);
  EXPECT_THROW(StorageSite::open("s3://host", env_of({{"VNCGATE_S3_ACCESS_KEY", "AK"}})), ConfigError);
}

}  // namespace
}  // namespace vncgate::storage
