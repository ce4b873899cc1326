// SPDX-License-Identifier: Apache-2.0
// The S3 backend against a real s3rver (npm) on loopback, with the minio npm client as an independent reader
// and as an independent SigV4 signer (s3rver does not verify signatures). Needs `npm ci` in tests/storage
// (scripts/install-deps.sh does it).
#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "storage/s3_storage.hpp"
#include "support/process.hpp"
#include "support/s3rver.hpp"
#include "util/error.hpp"

namespace vncgate::storage {
namespace {

using test::free_port;
using test::Process;
using test::read_file;
using test::TempDir;
using test::write_file;

const std::string kNodeDir = test::storage_node_dir();

std::string pattern(std::size_t size, unsigned seed) {
  std::string out(size, '\0');
  for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<char>((i * 131 + seed) % 251);
  return out;
}

// Runs node with `args` and returns what it printed on stdout; a non-zero exit fails the test with its stderr.
std::string run_node(const TempDir& dir, const std::vector<std::string>& args, const std::string& name) {
  const std::string out = dir.file(name + ".out");
  const std::string err = dir.file(name + ".err");
  std::filesystem::remove(out);
  // run_command sends stdout and stderr to one file; keep stderr apart so stdout stays parseable JSON.
  std::vector<std::string> argv = {"sh", "-c", "exec node \"$@\" 2>\"$0\"", err};
  argv.insert(argv.end(), args.begin(), args.end());
  const int code = test::run_command(argv, out, std::chrono::seconds(60));
  if (code != 0) ADD_FAILURE() << "node " << args.front() << " exited with " << code << ": " << read_file(err);
  return read_file(out);
}

class S3rverTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("vncgate-s3");
    server_ = new test::S3rver(dir_->file("data"), dir_->file("s3rver.log"));
    port_ = server_->port();
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
  }

  static S3Options options() {
    S3Options o;
    o.endpoint = "http://127.0.0.1:" + std::to_string(port_);
    o.credentials = {"S3RVER", "S3RVER", ""};
    o.part_size = std::uint64_t{5} * 1024 * 1024;
    return o;
  }

  // {key -> sha256} of what the minio client lists and downloads from `bucket`.
  static std::map<std::string, std::string> read_with_minio(const std::string& bucket) {
    return test::read_with_minio(dir_->path(), port_, bucket);
  }

  static inline TempDir* dir_ = nullptr;
  static inline test::S3rver* server_ = nullptr;
  static inline int port_ = 0;
};

TEST_F(S3rverTest, UploadListReadDownload_RoundTripsAndMinioReadsTheSameBytes) {
  S3Storage s3(options());
  Storage& storage = s3;
  storage.ensure_bucket("job-0001");
  storage.ensure_bucket("job-0001");  // existing bucket: no error

  const std::string small = pattern(300 * 1024, 1);
  const std::string large = pattern(12 * 1024 * 1024 + 12345, 2);  // 3 parts of 5 MiB, 5 MiB, rest
  write_file(dir_->file("small.json"), small);
  write_file(dir_->file("large.mp4"), large);

  const auto single = storage.put_file("job-0001", "segments/0001.json", dir_->file("small.json"));
  EXPECT_EQ(single.parts, 1);
  EXPECT_EQ(single.size, small.size());
  const auto multi = storage.put_file("job-0001", "segments/0001 final.mp4", dir_->file("large.mp4"));
  EXPECT_EQ(multi.parts, 3);
  EXPECT_EQ(multi.size, large.size());
  EXPECT_TRUE(std::filesystem::exists(dir_->file("large.mp4")));  // the local file is the caller's

  const auto listed = storage.list("job-0001", "segments/");
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].key, "segments/0001 final.mp4");
  EXPECT_EQ(listed[0].size, large.size());
  EXPECT_EQ(listed[1].key, "segments/0001.json");
  EXPECT_TRUE(storage.list("job-0001", "other/").empty());
  EXPECT_TRUE(storage.list("no-such-bucket", "").empty());

  EXPECT_EQ(storage.stat("job-0001", "segments/0001 final.mp4")->size, large.size());
  EXPECT_EQ(storage.stat("job-0001", "missing"), std::nullopt);
  EXPECT_EQ(storage.read("job-0001", "segments/0001 final.mp4", ByteRange{5 * 1024 * 1024 - 10, 100}),
            large.substr(5 * 1024 * 1024 - 10, 100));
  EXPECT_EQ(storage.read("job-0001", "segments/0001.json", ByteRange{1000, std::nullopt}), small.substr(1000));
  EXPECT_EQ(storage.read("job-0001", "missing"), std::nullopt);
  // Bounded ranges are one GET each: past the end, across the end, of a missing object.
  EXPECT_EQ(storage.read("job-0001", "segments/0001.json", ByteRange{small.size() - 5, 100}),
            small.substr(small.size() - 5));
  EXPECT_EQ(storage.read("job-0001", "segments/0001.json", ByteRange{small.size(), 10}), "");
  EXPECT_EQ(storage.read("job-0001", "segments/0001.json", ByteRange{small.size() + 1000, 10}), "");
  EXPECT_EQ(storage.read("job-0001", "missing", ByteRange{0, 10}), std::nullopt);

  EXPECT_EQ(storage.read("job-0001", "segments/0001 final.mp4"), large);

  const auto seen = read_with_minio("job-0001");
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen.at("segments/0001 final.mp4"), sigv4::sha256_hex(large));
  EXPECT_EQ(seen.at("segments/0001.json"), sigv4::sha256_hex(small));
}

TEST_F(S3rverTest, SharedBucketWithPrefix_KeepsEachJobUnderItsPrefix) {
  const auto site =
      StorageSite::open("s3://127.0.0.1:" + std::to_string(port_) + "/recordings/vncgate?tls=off&part_size_mb=5",
                        [](const std::string& name) -> std::optional<std::string> {
                          if (name == "VNCGATE_S3_ACCESS_KEY" || name == "VNCGATE_S3_SECRET_KEY") return "S3RVER";
                          return std::nullopt;
                        });
  const auto where = site.locate_job("job-0002");
  site.storage().ensure_bucket(where.bucket);
  write_file(dir_->file("seg.mp4"), pattern(4096, 3));
  site.storage().put_file(where.bucket, where.prefix + "0001.mp4", dir_->file("seg.mp4"));
  const auto seen = read_with_minio("recordings");
  ASSERT_EQ(seen.count("vncgate/job-0002/0001.mp4"), 1u);
  EXPECT_EQ(seen.at("vncgate/job-0002/0001.mp4"), sigv4::sha256_hex(pattern(4096, 3)));
}

TEST_F(S3rverTest, UploadToADeadServer_RetriesThenThrowsAndKeepsTheLocalFile) {
  S3Options o = options();
  o.endpoint = "http://127.0.0.1:" + std::to_string(free_port());  // nothing listens there
  o.retry = RetryPolicy{3, std::chrono::milliseconds(10), std::chrono::milliseconds(40)};
  S3Storage s3(o);
  write_file(dir_->file("kept.mp4"), pattern(1000, 4));
  try {
    s3.put_file("job-0003", "0001.mp4", dir_->file("kept.mp4"));
    FAIL() << "expected a StorageError";
  } catch (const StorageError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("gave up after 3 attempts"), std::string::npos) << message;
    EXPECT_NE(message.find("local file is kept"), std::string::npos) << message;
    EXPECT_EQ(message.find("S3RVER"), std::string::npos) << message;  // no secrets in messages
  }
  EXPECT_EQ(read_file(dir_->file("kept.mp4")), pattern(1000, 4));
}

TEST_F(S3rverTest, Probe_AnswersAtOnceAndFailsFastWithoutRetries) {
  S3Storage live(options());
  EXPECT_NO_THROW(live.probe("job-0001", std::chrono::seconds(5)));
  EXPECT_NO_THROW(live.probe("no-such-bucket", std::chrono::seconds(5)));  // the endpoint answers: reachable
  S3Options o = options();
  o.endpoint = "http://127.0.0.1:" + std::to_string(free_port());  // nothing listens there
  S3Storage dead(o);  // five attempts with back-off for ordinary calls; the probe makes one
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(dead.probe("job-0001", std::chrono::seconds(5)), StorageError);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

// A stand-in S3 endpoint on loopback that answers the first `failures` requests with 503 and the rest with
// 200 + an ETag: s3rver cannot be made to fail, and retries on 5xx need a server that does.
class FlakyServer {
 public:
  explicit FlakyServer(int failures) : acceptor_(context_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this, failures] {
      namespace http = boost::beast::http;
      for (int served = 0;; ++served) {
        boost::asio::ip::tcp::socket socket(context_);
        boost::system::error_code ec;
        acceptor_.accept(socket, ec);
        if (ec || stopping_) return;
        boost::beast::flat_buffer buffer;
        http::request<http::string_body> request;
        http::read(socket, buffer, request, ec);
        if (ec) continue;
        http::response<http::string_body> response(
            served < failures ? http::status::service_unavailable : http::status::ok, 11);
        response.set(http::field::etag, "\"tag\"");
        if (served < failures) response.body() = "<Error><Code>SlowDown</Code><Message>busy</Message></Error>";
        response.prepare_payload();
        http::write(socket, response, ec);
        requests_ = served + 1;
      }
    });
  }
  ~FlakyServer() {
    // Closing the acceptor does not wake a blocking accept on Linux; a last connection does.
    stopping_ = true;
    boost::system::error_code ignored;
    boost::asio::ip::tcp::socket poke(context_);
    poke.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port_)}, ignored);
    thread_.join();
  }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int requests() const { return requests_; }

 private:
  boost::asio::io_context context_;
  boost::asio::ip::tcp::acceptor acceptor_;
  int port_ = acceptor_.local_endpoint().port();
  std::atomic<int> requests_{0};
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

S3Options flaky_options(const FlakyServer& server, int attempts) {
  S3Options o;
  o.endpoint = server.endpoint();
  o.credentials = {"AK", "SK", ""};
  o.retry = RetryPolicy{attempts, std::chrono::milliseconds(10), std::chrono::milliseconds(40)};
  return o;
}

TEST(S3Retries, PutFile_RetriesOn503AndSucceeds) {
  TempDir dir("vncgate-s3-retry");
  write_file(dir.file("f"), pattern(1000, 5));
  FlakyServer server(2);
  S3Storage s3(flaky_options(server, 4));
  const auto result = s3.put_file("job-0004", "0001.mp4", dir.file("f"));
  EXPECT_EQ(result.attempts, 3);
  EXPECT_EQ(result.etag, "\"tag\"");
}

TEST(S3Retries, PutFile_GivesUpAfterMaxAttemptsNamingTheCause) {
  TempDir dir("vncgate-s3-retry");
  write_file(dir.file("f"), pattern(1000, 6));
  FlakyServer server(100);
  S3Storage s3(flaky_options(server, 2));
  try {
    s3.put_file("job-0004", "0001.mp4", dir.file("f"));
    FAIL() << "expected a StorageError";
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find("503 SlowDown: busy (gave up after 2 attempts); the local file is kept"),
              std::string::npos)
        << e.what();
  }
  EXPECT_TRUE(std::filesystem::exists(dir.file("f")));
}

// The same requests signed by minio-js and by us, at a fixed date.
TEST(MinioSignatures, HeaderAndPresignedSignatures_MatchMinioJs) {
  TempDir dir("vncgate-minio-sign");
  const sigv4::Credentials credentials{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
  const sigv4::Scope scope{"eu-central-1", "s3"};
  const std::string date = "20260115T093000Z";
  const std::string host = "127.0.0.1:9000";
  const std::string payload = sigv4::sha256_hex("part bytes");

  struct HeaderCase {
    std::string method, path, query_wire;
    sigv4::Pairs query;
    sigv4::Pairs headers;
  };
  const std::vector<HeaderCase> header_cases = {
      {"GET", "/job-0001", "list-type=2&prefix=segments%2F", {{"list-type", "2"}, {"prefix", "segments/"}}, {}},
      {"PUT",
       "/job-0001/segments/0001 final.mp4",
       "partNumber=2&uploadId=abc",
       {{"uploadId", "abc"}, {"partNumber", "2"}},
       {}},
      {"GET", "/job-0001/segments/0001.mp4", "", {}, {{"range", "bytes=0-1023"}}},
  };
  nlohmann::json input = {{"accessKey", credentials.access_key},
                          {"secretKey", credentials.secret_key},
                          {"region", scope.region},
                          {"date", "2026-01-15T09:30:00Z"},
                          {"host", "127.0.0.1"},
                          {"port", 9000}};
  input["cases"] = nlohmann::json::array();
  for (const auto& c : header_cases) {
    nlohmann::json headers = {{"host", host}, {"x-amz-date", date}, {"x-amz-content-sha256", payload}};
    for (const auto& [name, value] : c.headers) headers[name] = value;
    input["cases"].push_back(
        {{"kind", "header"},
         {"method", c.method},
         {"path", sigv4::uri_encode(c.path, false) + (c.query_wire.empty() ? "" : "?" + c.query_wire)},
         {"headers", headers},
         {"payloadHash", payload}});
  }
  input["cases"].push_back(
      {{"kind", "presign"}, {"bucket", "job-0001"}, {"key", "segments/0001 final+1.mp4"}, {"expires", 3600}});

  const auto output = nlohmann::json::parse(run_node(dir, {kNodeDir + "/minio_sign.js", input.dump()}, "sign"));
  ASSERT_EQ(output.size(), header_cases.size() + 1);
  for (std::size_t i = 0; i < header_cases.size(); ++i) {
    sigv4::RequestToSign r;
    r.method = header_cases[i].method;
    r.path = header_cases[i].path;
    r.query = header_cases[i].query;
    r.payload_hash = payload;
    r.headers = {{"host", host}, {"x-amz-date", date}, {"x-amz-content-sha256", payload}};
    for (const auto& h : header_cases[i].headers) r.headers.push_back(h);
    EXPECT_EQ(sigv4::sign(r, credentials, scope, date).authorization, output[i].get<std::string>()) << "case " << i;
  }
  sigv4::RequestToSign presign;
  presign.method = "GET";
  presign.path = "/job-0001/segments/0001 final+1.mp4";
  presign.headers = {{"host", host}};
  EXPECT_EQ("http://" + host + sigv4::uri_encode(presign.path, false) + "?" +
                sigv4::presign_query(presign, credentials, scope, date, std::chrono::seconds(3600)),
            output.back().get<std::string>());
}

}  // namespace
}  // namespace vncgate::storage
