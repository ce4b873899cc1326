// SPDX-License-Identifier: Apache-2.0
#include "storage/s3_storage.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "storage/s3_xml.hpp"
#include "util/error.hpp"

namespace vncgate::storage {
namespace fs = std::filesystem;
namespace {

constexpr std::uint64_t kMinPartSize = std::uint64_t{5} * 1024 * 1024;  // S3 rejects smaller non-final parts
constexpr int kMaxParts = 10000;                                        // S3 limit per multipart upload

bool retryable(int status) { return status >= 500 || status == 429; }

// "403 AccessDenied: Access Denied" from an S3 error response (the body is XML when there is one).
std::string describe_failure(const http::Response& response) {
  std::string out = std::to_string(response.status);
  const auto code = xml::text_of(response.body, "Code");
  const auto message = xml::text_of(response.body, "Message");
  out += " " + (code ? *code : response.reason);
  if (message) out += ": " + *message;
  return out;
}

std::chrono::milliseconds backoff(const RetryPolicy& policy, int attempt) {
  thread_local std::mt19937 random{std::random_device{}()};
  const auto doubled = policy.first_delay * (std::int64_t{1} << std::min(attempt - 1, 20));
  const auto capped = std::min<std::chrono::milliseconds>(doubled, policy.max_delay);
  // Jitter keeps many uploads that failed together from retrying in lockstep.
  std::uniform_real_distribution<double> jitter(0.75, 1.25);
  return std::chrono::milliseconds(static_cast<std::int64_t>(static_cast<double>(capped.count()) * jitter(random)));
}

std::string object_name(const std::string& bucket, const std::string& key) { return bucket + "/" + key; }

// Reads up to `size` bytes of `in` into a string (one part or a whole small file).
std::string read_chunk(std::ifstream& in, std::uint64_t size, const std::string& path) {
  std::string buffer(size, '\0');
  in.read(buffer.data(), static_cast<std::streamsize>(size));
  if (static_cast<std::uint64_t>(in.gcount()) != size)
    throw StorageError("reading " + path + ": the file is shorter than when the upload began");
  return buffer;
}

}  // namespace

S3Storage::S3Storage(S3Options options) : options_(std::move(options)) {
  std::string error;
  auto url = http::parse_url(options_.endpoint, &error);
  if (!url) throw ConfigError("S3 endpoint '" + options_.endpoint + "': " + error);
  if (url->target != "/") throw ConfigError("S3 endpoint '" + options_.endpoint + "' must not have a path");
  endpoint_ = *url;
  if (options_.part_size < kMinPartSize) throw ConfigError("S3 part size must be at least 5 MiB");
  if (options_.credentials.access_key.empty() || options_.credentials.secret_key.empty())
    throw ConfigError("S3 storage needs an access key and a secret key");
  if (options_.retry.max_attempts < 1) options_.retry.max_attempts = 1;
}

std::string S3Storage::describe() const {
  return "s3://" + endpoint_.authority() + " (" + endpoint_.scheme + ", " +
         (options_.path_style ? "path-style" : "virtual-host") + ", region " + options_.region + ")";
}

S3Storage::Address S3Storage::address(const std::string& bucket, const std::string& key) const {
  Address out;
  http::Url url = endpoint_;
  if (options_.path_style || bucket.empty()) {
    out.path = "/" + bucket + (key.empty() ? "" : "/" + key);
  } else {
    url.host = bucket + "." + url.host;
    out.path = "/" + key;
  }
  out.authority = url.authority();
  out.url = url.scheme + "://" + out.authority + sigv4::uri_encode(out.path, false);
  return out;
}

http::Response S3Storage::send_once(const Call& call) const {
  const Address where = address(call.bucket, call.key);
  const std::string date = sigv4::amz_date(std::chrono::system_clock::now());
  sigv4::RequestToSign to_sign;
  to_sign.method = call.method;
  to_sign.path = where.path;
  to_sign.query = call.query;
  to_sign.payload_hash = sigv4::sha256_hex(call.body);
  to_sign.headers = call.headers;
  to_sign.headers.emplace_back("x-amz-date", date);
  to_sign.headers.emplace_back("x-amz-content-sha256", to_sign.payload_hash);
  if (!options_.credentials.session_token.empty())
    to_sign.headers.emplace_back("x-amz-security-token", options_.credentials.session_token);

  http::Request request;
  request.method = call.method;
  request.url = where.url;
  std::string query;
  for (const auto& [name, value] : call.query)
    query += (query.empty() ? "?" : "&") + sigv4::uri_encode(name, true) + "=" + sigv4::uri_encode(value, true);
  request.url += query;
  request.headers = to_sign.headers;  // sent exactly as signed; the client adds the same Host
  to_sign.headers.emplace_back("host", where.authority);
  request.headers.emplace_back("Authorization",
                               sigv4::sign(to_sign, options_.credentials, {options_.region, "s3"}, date).authorization);
  request.body = call.body;
  request.tls = options_.tls;
  request.timeout = call.timeout.count() > 0 ? call.timeout : options_.request_timeout;
  return http::send_blocking(request);
}

http::Response S3Storage::send(const Call& call, const std::string& what, int* attempts) const {
  for (int attempt = 1;; ++attempt) {
    if (attempts != nullptr) ++*attempts;
    std::string failure;
    try {
      http::Response response = send_once(call);
      if (!retryable(response.status)) return response;
      failure = describe_failure(response);
    } catch (const IoError& e) {
      failure = e.what();  // names host and method only: the client never puts query or headers in messages
    }
    if (attempt >= options_.retry.max_attempts)
      throw StorageError(what + ": " + failure + " (gave up after " + std::to_string(attempt) + " attempts)");
    const auto delay = backoff(options_.retry, attempt);
    spdlog::warn("storage: {}: {}; retrying in {} ms ({}/{})", what, failure, delay.count(), attempt,
                 options_.retry.max_attempts);
    std::this_thread::sleep_for(delay);
  }
}

void S3Storage::ensure_bucket(const std::string& bucket) {
  check_bucket(bucket);
  Call call{"PUT", bucket, "", {}, {}, ""};
  if (options_.region != "us-east-1") {  // us-east-1 is the default and AWS rejects it as a constraint
    call.body = "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>" +
                xml::escape(options_.region) + "</LocationConstraint></CreateBucketConfiguration>";
  }
  const std::string what = "creating bucket " + bucket;
  const auto response = send(call, what);
  if (response.status == 200) return;
  if (response.status == 409) {
    // Already there: fine when it is ours (MinIO says BucketAlreadyOwnedByYou, others BucketAlreadyExists).
    const auto head = send(Call{"HEAD", bucket, "", {}, {}, ""}, "checking bucket " + bucket);
    if (head.status == 200) return;
  }
  throw StorageError(what + ": " + describe_failure(response));
}

PutResult S3Storage::put_file(const std::string& bucket, const std::string& key, const std::string& local_path) {
  check_bucket(bucket);
  check_key(key);
  const std::string what = "upload of " + local_path + " to " + object_name(bucket, key);
  std::error_code ec;
  const std::uint64_t size = fs::file_size(local_path, ec);
  if (ec) throw StorageError(what + ": " + ec.message());
  if (size > options_.part_size) return put_multipart(bucket, key, local_path, size);

  std::ifstream in(local_path, std::ios::binary);
  if (!in) throw StorageError(what + ": cannot open the file");
  PutResult result;
  result.size = size;
  result.attempts = 0;
  const Call call{
      "PUT", bucket, key, {}, {{"Content-Type", "application/octet-stream"}}, read_chunk(in, size, local_path)};
  http::Response response;
  try {
    response = send(call, what, &result.attempts);
  } catch (const StorageError& e) {
    throw StorageError(std::string(e.what()) + "; the local file is kept");
  }
  if (response.status != 200) throw StorageError(what + ": " + describe_failure(response) + "; the local file is kept");
  result.etag = response.header("ETag").value_or("");
  return result;
}

S3Storage::Multipart::Multipart(S3Storage& s3, std::string bucket, std::string key, std::string what)
    : s3_(s3), bucket_(std::move(bucket)), key_(std::move(key)), what_(std::move(what)) {}

S3Storage::Multipart::~Multipart() { abort(); }

void S3Storage::Multipart::put_part(std::string data, int* attempts) {
  if (!upload_id_) {
    const auto created =
        s3_.send(Call{"POST", bucket_, key_, {{"uploads", ""}}, {{"Content-Type", "application/octet-stream"}}, ""},
                 what_ + " (create)", attempts);
    upload_id_ = xml::text_of(created.body, "UploadId");
    if (created.status != 200 || !upload_id_) {
      upload_id_.reset();
      throw StorageError(what_ + ": create: " + describe_failure(created));
    }
  }
  if (etags_.size() >= static_cast<std::size_t>(kMaxParts))
    throw StorageError(what_ + ": more than 10000 parts; raise the part size");
  const std::string n = std::to_string(etags_.size() + 1);
  const Call call{"PUT", bucket_, key_, {{"partNumber", n}, {"uploadId", *upload_id_}}, {}, std::move(data)};
  const auto response = s3_.send(call, what_ + " (part " + n + ")", attempts);
  const auto etag = response.header("ETag");
  if (response.status != 200 || !etag) throw StorageError(what_ + ": part " + n + ": " + describe_failure(response));
  etags_.push_back(*etag);
}

std::string S3Storage::Multipart::complete(int* attempts) {
  std::string parts_xml;
  for (std::size_t i = 0; i < etags_.size(); ++i)
    parts_xml += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" + xml::escape(etags_[i]) +
                 "</ETag></Part>";
  const Call call{"POST",
                  bucket_,
                  key_,
                  {{"uploadId", upload_id_.value_or("")}},
                  {{"Content-Type", "application/xml"}},
                  "<CompleteMultipartUpload>" + parts_xml + "</CompleteMultipartUpload>"};
  const auto response = s3_.send(call, what_ + " (complete)", attempts);
  // S3 may answer 200 and still put an <Error> into the body when completing fails late.
  if (response.status != 200 || response.body.find("<Error>") != std::string::npos)
    throw StorageError(what_ + ": complete: " + describe_failure(response));
  done_ = true;
  return xml::text_of(response.body, "ETag").value_or("");
}

void S3Storage::Multipart::abort() noexcept {
  if (done_ || !upload_id_) return;
  done_ = true;
  // Free the parts already stored (they cost money and count against quotas); best effort.
  try {
    s3_.send_once(Call{"DELETE", bucket_, key_, {{"uploadId", *upload_id_}}, {}, ""});
  } catch (const std::exception& e) {
    spdlog::warn("storage: aborting {}: {}", what_, e.what());
  }
}

PutResult S3Storage::put_multipart(const std::string& bucket, const std::string& key, const std::string& local_path,
                                   std::uint64_t size) {
  const std::string what = "multipart upload of " + local_path + " to " + object_name(bucket, key);
  if ((size + options_.part_size - 1) / options_.part_size > kMaxParts)
    throw StorageError(what + ": more than 10000 parts; raise the part size");
  std::ifstream in(local_path, std::ios::binary);
  if (!in) throw StorageError(what + ": cannot open the file");
  PutResult result;
  result.size = size;
  result.attempts = 0;
  Multipart upload(*this, bucket, key, what);
  try {
    for (std::uint64_t offset = 0; offset < size; offset += options_.part_size)
      upload.put_part(read_chunk(in, std::min(options_.part_size, size - offset), local_path), &result.attempts);
    result.etag = upload.complete(&result.attempts);
    result.parts = upload.parts();
    return result;
  } catch (const Error& e) {
    upload.abort();
    throw StorageError(std::string(e.what()) + "; upload aborted, the local file is kept");
  }
}

// Streams whole parts while the file grows; the rest at finish(). Each sent part's SHA-256 is kept so finish()
// can prove the file still holds what was sent before completing.
class S3Storage::Growing final : public GrowingUpload {
 public:
  Growing(S3Storage& s3, std::string bucket, std::string key, std::string path)
      : s3_(s3),
        bucket_(std::move(bucket)),
        key_(std::move(key)),
        path_(std::move(path)),
        what_("upload of " + path_ + " to " + object_name(bucket_, key_)) {}

  void grown(std::uint64_t size) override {
    if (failed_) return;
    try {
      while (size - sent_ >= s3_.options_.part_size) {
        auto data = read_at(sent_, s3_.options_.part_size);
        if (!multipart_) multipart_.emplace(s3_, bucket_, key_, "streamed " + what_);
        digests_.push_back(sigv4::sha256_hex(data));
        multipart_->put_part(std::move(data), &attempts_);
        sent_ += s3_.options_.part_size;
      }
    } catch (const Error& e) {
      failed_ = true;  // finish() uploads the whole file instead
      if (multipart_) multipart_->abort();
      throw StorageError(std::string(e.what()) + "; the whole file will be uploaded when it is complete");
    }
  }

  std::uint64_t streamed() const override { return failed_ ? 0 : sent_; }

  PutResult finish() override {
    std::error_code ec;
    const std::uint64_t size = fs::file_size(path_, ec);
    if (ec) throw StorageError(what_ + ": " + ec.message());
    if (failed_ || !multipart_ || !unchanged(size)) {
      if (multipart_) multipart_->abort();
      return s3_.put_file(bucket_, key_, path_);
    }
    PutResult result;
    result.size = size;
    result.attempts = attempts_;
    try {
      for (std::uint64_t offset = sent_; offset < size; offset += s3_.options_.part_size)
        multipart_->put_part(read_at(offset, std::min(s3_.options_.part_size, size - offset)), &result.attempts);
      result.etag = multipart_->complete(&result.attempts);
      result.parts = multipart_->parts();
      return result;
    } catch (const Error& e) {
      multipart_->abort();
      throw StorageError(std::string(e.what()) + "; upload aborted, the local file is kept");
    }
  }

 private:
  std::string read_at(std::uint64_t offset, std::uint64_t length) const {
    std::ifstream in(path_, std::ios::binary);
    if (!in) throw StorageError(what_ + ": cannot open the file");
    in.seekg(static_cast<std::streamoff>(offset));
    return read_chunk(in, length, path_);
  }
  bool unchanged(std::uint64_t size) const {
    if (size < sent_) return false;
    for (std::size_t i = 0; i < digests_.size(); ++i)
      if (sigv4::sha256_hex(read_at(i * s3_.options_.part_size, s3_.options_.part_size)) != digests_[i]) {
        spdlog::warn("storage: {} changed below what was streamed; uploading it whole", path_);
        return false;
      }
    return true;
  }

  S3Storage& s3_;
  std::string bucket_, key_, path_, what_;
  std::optional<Multipart> multipart_;
  std::vector<std::string> digests_;
  std::uint64_t sent_ = 0;
  int attempts_ = 0;
  bool failed_ = false;
};

std::unique_ptr<GrowingUpload> S3Storage::begin_growing_upload(const std::string& bucket, const std::string& key,
                                                               const std::string& local_path) {
  check_bucket(bucket);
  check_key(key);
  return std::make_unique<Growing>(*this, bucket, key, local_path);
}

void S3Storage::probe(const std::string& bucket, std::chrono::milliseconds timeout) {
  check_bucket(bucket);
  Call call{"GET", bucket, "", {{"list-type", "2"}}, {}, ""};
  call.timeout = timeout;
  http::Response response;
  try {
    response = send_once(call);
  } catch (const IoError& e) {
    throw StorageError(std::string("probing ") + bucket + ": " + e.what());
  }
  if (response.status != 200 && response.status != 404)  // 404: no bucket yet, the endpoint answers
    throw StorageError("probing " + bucket + ": " + describe_failure(response));
}

std::vector<ObjectInfo> S3Storage::list(const std::string& bucket, const std::string& prefix) {
  check_bucket(bucket);
  std::vector<ObjectInfo> out;
  std::optional<std::string> token;
  do {
    Call call{"GET", bucket, "", {{"list-type", "2"}, {"prefix", prefix}}, {}, ""};
    if (token) call.query.emplace_back("continuation-token", *token);
    const auto response = send(call, "listing " + bucket + "/" + prefix);
    if (response.status == 404) return out;  // NoSuchBucket: nothing stored yet
    if (response.status != 200) throw StorageError("listing " + bucket + ": " + describe_failure(response));
    for (const auto contents : xml::elements(response.body, "Contents")) {
      ObjectInfo info;
      info.key = xml::text_of(contents, "Key").value_or("");
      info.size = std::stoull(xml::text_of(contents, "Size").value_or("0"));
      info.etag = xml::text_of(contents, "ETag").value_or("");
      out.push_back(std::move(info));
    }
    token = xml::text_of(response.body, "IsTruncated") == "true" ? xml::text_of(response.body, "NextContinuationToken")
                                                                 : std::nullopt;
  } while (token);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
  return out;
}

std::optional<ObjectInfo> S3Storage::stat(const std::string& bucket, const std::string& key) {
  check_bucket(bucket);
  check_key(key);
  const auto response = send(Call{"HEAD", bucket, key, {}, {}, ""}, "HEAD " + object_name(bucket, key));
  if (response.status == 404) return std::nullopt;
  if (response.status != 200)
    throw StorageError("HEAD " + object_name(bucket, key) + ": " + describe_failure(response));
  ObjectInfo info;
  info.key = key;
  info.size = std::stoull(response.header("Content-Length").value_or("0"));
  info.etag = response.header("ETag").value_or("");
  return info;
}

http::Response S3Storage::get_range(const std::string& bucket, const std::string& key, std::uint64_t first,
                                    std::uint64_t last, std::string& what) const {
  const std::string range = "bytes=" + std::to_string(first) + "-" + std::to_string(last);
  what = "GET " + object_name(bucket, key) + " " + range;
  return send(Call{"GET", bucket, key, {}, {{"Range", range}}, ""}, what);
}

void S3Storage::fetch(const std::string& bucket, const std::string& key, std::uint64_t offset, std::uint64_t length,
                      const std::function<void(const std::string&)>& sink) {
  const std::uint64_t end = offset + length;
  for (std::uint64_t at = offset; at < end;) {
    const std::uint64_t last = std::min(end, at + options_.part_size) - 1;
    std::string what;
    const auto response = get_range(bucket, key, at, last, what);
    if (response.status != 206 && response.status != 200) throw StorageError(what + ": " + describe_failure(response));
    if (response.body.size() != last - at + 1)
      throw StorageError(what + ": got " + std::to_string(response.body.size()) + " bytes (object changed?)");
    sink(response.body);
    at = last + 1;
  }
}

std::optional<std::string> S3Storage::read(const std::string& bucket, const std::string& key,
                                           std::optional<ByteRange> range) {
  // A bounded range is one GET, without a HEAD first (seeks in a recording read many small ranges): S3 answers
  // what exists of it, 416 when it starts at or past the end.
  if (range && range->length && *range->length > 0 && *range->length <= options_.part_size) {
    std::string what;
    auto response = get_range(bucket, key, range->offset, range->offset + *range->length - 1, what);
    if (response.status == 404) return std::nullopt;
    if (response.status == 416) return std::string();
    if (response.status == 200)  // a server that ignores Range sends the whole object
      return range->offset < response.body.size() ? response.body.substr(range->offset, *range->length) : std::string();
    if (response.status != 206) throw StorageError(what + ": " + describe_failure(response));
    if (response.body.size() > *range->length) throw StorageError(what + ": got more bytes than asked for");
    return std::move(response.body);
  }
  const auto info = stat(bucket, key);
  if (!info) return std::nullopt;
  const std::uint64_t first = range ? std::min(range->offset, info->size) : 0;
  std::uint64_t count = info->size - first;
  if (range && range->length) count = std::min(count, *range->length);
  std::string out;
  out.reserve(count);
  fetch(bucket, key, first, count, [&out](const std::string& bytes) { out += bytes; });
  return out;
}

}  // namespace vncgate::storage
