// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstdint>

#include "http/http_client.hpp"
#include "io/endpoint.hpp"
#include "storage/sigv4.hpp"
#include "storage/storage.hpp"

namespace vncgate::storage {

// Retries of one request on network errors, 5xx and 429: attempt n waits first_delay * 2^(n-1) (capped at
// max_delay, +-25% jitter) before the next.
struct RetryPolicy {
  int max_attempts = 5;
  std::chrono::milliseconds first_delay{200};
  std::chrono::milliseconds max_delay{10000};
};

struct S3Options {
  std::string endpoint;  // "https://s3.example.com" or "http://127.0.0.1:9000"; no path
  std::string region = "us-east-1";
  bool path_style = true;  // http://host/bucket/key; false: http://bucket.host/key (AWS virtual-host style)
  io::TlsOptions tls;
  sigv4::Credentials credentials;  // never logged
  // Files larger than this go up as a multipart upload of parts this big (S3 minimum 5 MiB but for the last
  // part); also the chunk size of downloads. Memory per transfer is about one part.
  std::uint64_t part_size = std::uint64_t{8} * 1024 * 1024;
  RetryPolicy retry;
  std::chrono::milliseconds request_timeout{120000};
};

// S3 REST API over the Beast HTTP client, signed with SigV4 (payload SHA-256 on every request that has a body).
class S3Storage final : public Storage {
 public:
  // Throws ConfigError for a malformed endpoint, a part size below 5 MiB or empty credentials.
  explicit S3Storage(S3Options options);

  std::string describe() const override;
  void ensure_bucket(const std::string& bucket) override;
  PutResult put_file(const std::string& bucket, const std::string& key, const std::string& local_path) override;
  // Parts go up as soon as `part_size` bytes of the file exist; finish() re-checks them against the file and
  // falls back to a whole upload when the file changed below what was sent.
  std::unique_ptr<GrowingUpload> begin_growing_upload(const std::string& bucket, const std::string& key,
                                                      const std::string& local_path) override;
  void probe(const std::string& bucket, std::chrono::milliseconds timeout) override;
  std::vector<ObjectInfo> list(const std::string& bucket, const std::string& prefix) override;
  std::optional<ObjectInfo> stat(const std::string& bucket, const std::string& key) override;
  std::optional<std::string> read(const std::string& bucket, const std::string& key,
                                  std::optional<ByteRange> range) override;

 private:
  struct Call {
    std::string method;
    std::string bucket;
    std::string key;  // "" for bucket-level requests
    sigv4::Pairs query;
    sigv4::Pairs headers;  // besides host, x-amz-date, x-amz-content-sha256, authorization
    std::string body;
    std::chrono::milliseconds timeout{0};  // 0: S3Options::request_timeout
  };
  struct Address {
    std::string url;        // scheme://authority/encoded-path[?query]
    std::string authority;  // the Host header the client sends
    std::string path;       // unencoded, for the signer
  };

  Address address(const std::string& bucket, const std::string& key) const;
  http::Response send_once(const Call& call) const;
  // send_once with retries; `what` names the operation for messages ("PUT bucket/key").
  http::Response send(const Call& call, const std::string& what, int* attempts = nullptr) const;
  // One GET of bytes [first, last]; `what` is set to name it in errors.
  http::Response get_range(const std::string& bucket, const std::string& key, std::uint64_t first, std::uint64_t last,
                           std::string& what) const;
  // The object's bytes in [offset, offset + length), fetched in part-sized ranged GETs, passed to `sink`.
  void fetch(const std::string& bucket, const std::string& key, std::uint64_t offset, std::uint64_t length,
             const std::function<void(const std::string&)>& sink);
  PutResult put_multipart(const std::string& bucket, const std::string& key, const std::string& local_path,
                          std::uint64_t size);

  // One multipart upload: created on the first part, parts numbered in order, then completed or aborted.
  class Multipart {
   public:
    Multipart(S3Storage& s3, std::string bucket, std::string key, std::string what);
    ~Multipart();  // aborts an upload neither completed nor aborted
    void put_part(std::string data, int* attempts);
    std::string complete(int* attempts);  // the object's ETag
    void abort() noexcept;
    int parts() const { return static_cast<int>(etags_.size()); }

   private:
    S3Storage& s3_;
    std::string bucket_, key_, what_;
    std::optional<std::string> upload_id_;
    std::vector<std::string> etags_;
    bool done_ = false;
  };
  class Growing;

  S3Options options_;
  http::Url endpoint_;
};

}  // namespace vncgate::storage
