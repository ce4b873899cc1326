// SPDX-License-Identifier: Apache-2.0
#include "storage/storage.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "http/http_client.hpp"
#include "storage/local_storage.hpp"
#include "storage/s3_storage.hpp"
#include "util/error.hpp"

namespace vncgate::storage {
namespace {

std::string trim_trailing_space(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())) != 0) text.pop_back();
  return text;
}

// NAME, or the contents of the file named by NAME_FILE (Docker/Kubernetes secrets). Missing: "".
std::string secret_from_env(const GetEnv& env, const std::string& name) {
  if (auto value = env(name); value && !value->empty()) return *value;
  const auto file = env(name + "_FILE");
  if (!file || file->empty()) return "";
  std::ifstream in(*file, std::ios::binary);
  if (!in) throw ConfigError(name + "_FILE: cannot read " + *file);
  std::ostringstream text;
  text << in.rdbuf();
  return trim_trailing_space(text.str());
}

std::vector<std::pair<std::string, std::string>> parse_query(const std::string& query, const std::string& url) {
  std::vector<std::pair<std::string, std::string>> out;
  std::istringstream in(query);
  for (std::string item; std::getline(in, item, '&');) {
    if (item.empty()) continue;
    const auto eq = item.find('=');
    auto value = http::percent_decode(eq == std::string::npos ? "" : item.substr(eq + 1));
    if (!value) throw ConfigError("storage URL '" + url + "': bad escape in '" + item + "'");
    out.emplace_back(item.substr(0, eq), *value);
  }
  return out;
}

bool parse_flag(const std::string& name, const std::string& value) {
  if (value == "1" || value == "on" || value == "true" || value == "yes") return true;
  if (value == "0" || value == "off" || value == "false" || value == "no") return false;
  throw ConfigError("storage URL option " + name + "=" + value + ": expected on or off");
}

}  // namespace

namespace {

class UploadAtFinish final : public GrowingUpload {
 public:
  UploadAtFinish(Storage& storage, std::string bucket, std::string key, std::string path)
      : storage_(storage), bucket_(std::move(bucket)), key_(std::move(key)), path_(std::move(path)) {}
  void grown(std::uint64_t) override {}
  PutResult finish() override { return storage_.put_file(bucket_, key_, path_); }
  std::uint64_t streamed() const override { return 0; }

 private:
  Storage& storage_;
  std::string bucket_, key_, path_;
};

}  // namespace

std::unique_ptr<GrowingUpload> Storage::begin_growing_upload(const std::string& bucket, const std::string& key,
                                                             const std::string& local_path) {
  return std::make_unique<UploadAtFinish>(*this, bucket, key, local_path);
}

GetEnv process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

void check_key(const std::string& key) {
  auto bad = [&key](const std::string& why) { throw StorageError("object key '" + key + "' " + why); };
  if (key.empty() || key.size() > 1024) bad("must have 1 to 1024 bytes");
  if (key.front() == '/') bad("must not start with '/'");
  for (const char c : key)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) bad("has a control character");
  std::istringstream in(key);
  for (std::string segment; std::getline(in, segment, '/');)
    if (segment.empty() || segment == "." || segment == "..") bad("has an empty, '.' or '..' segment");
  if (key.back() == '/') bad("must not end with '/'");
}

void check_bucket(const std::string& bucket) {
  const bool size_ok = bucket.size() >= 3 && bucket.size() <= 63;
  bool chars_ok = size_ok;
  for (const char c : bucket)
    chars_ok = chars_ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.');
  const auto edge_ok = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!chars_ok || !edge_ok(bucket.front()) || !edge_ok(bucket.back()) || bucket.find("..") != std::string::npos)
    throw StorageError("bucket name '" + bucket +
                       "' must have 3 to 63 of a-z, 0-9, '.', '-', starting and ending with a letter or digit");
}

StorageSite StorageSite::open(const std::string& url, const GetEnv& env) {
  StorageSite site;
  if (url.starts_with("file://")) {
    const std::string dir = url.substr(7);
    if (dir.empty() || dir.front() != '/')
      throw ConfigError("storage URL '" + url + "': expected file:///absolute/dir");
    site.storage_ = std::make_shared<LocalStorage>(dir);
    return site;
  }
  if (!url.starts_with("s3://"))
    throw ConfigError("storage URL '" + url + "': expected file:///DIR or s3://HOST[:PORT][/BUCKET[/PREFIX]]");

  const std::string rest = url.substr(5);
  const auto question = rest.find('?');
  const std::string location = rest.substr(0, question);
  const auto slash = location.find('/');
  const std::string authority = location.substr(0, slash);
  std::string path = slash == std::string::npos ? "" : location.substr(slash + 1);
  while (!path.empty() && path.back() == '/') path.pop_back();

  S3Options options;
  bool tls = true;
  for (const auto& [name, value] : parse_query(question == std::string::npos ? "" : rest.substr(question + 1), url)) {
    if (name == "region")
      options.region = value;
    else if (name == "style" && (value == "path" || value == "virtual"))
      options.path_style = value == "path";
    else if (name == "tls")
      tls = parse_flag(name, value);
    else if (name == "ca_file")
      options.tls.ca_file = value;
    else if (name == "insecure")
      options.tls.insecure = parse_flag(name, value);
    else if (name == "part_size_mb")
      options.part_size = std::stoull(value) * 1024 * 1024;
    else
      throw ConfigError("storage URL '" + url + "': unknown option or value '" + name + "=" + value + "'");
  }
  options.endpoint = std::string(tls ? "https" : "http") + "://" + authority;
  options.credentials.access_key = secret_from_env(env, "VNCGATE_S3_ACCESS_KEY");
  options.credentials.secret_key = secret_from_env(env, "VNCGATE_S3_SECRET_KEY");
  options.credentials.session_token = secret_from_env(env, "VNCGATE_S3_SESSION_TOKEN");
  if (options.credentials.access_key.empty() || options.credentials.secret_key.empty())
    throw ConfigError("s3 storage needs VNCGATE_S3_ACCESS_KEY and VNCGATE_S3_SECRET_KEY (or their *_FILE variants)");

  const auto bucket_end = path.find('/');
  site.shared_bucket_ = path.substr(0, bucket_end);
  if (bucket_end != std::string::npos) site.base_prefix_ = path.substr(bucket_end + 1) + "/";
  if (!site.shared_bucket_.empty()) {
    try {
      check_bucket(site.shared_bucket_);
    } catch (const StorageError& e) {
      throw ConfigError("storage URL '" + url + "': " + e.what());
    }
  }
  site.storage_ = std::make_shared<S3Storage>(std::move(options));
  return site;
}

JobLocation StorageSite::locate_job(const std::string& job_id) const {
  if (shared_bucket_.empty()) {
    check_bucket(job_id);
    return JobLocation{job_id, ""};
  }
  check_key(job_id);
  return JobLocation{shared_bucket_, base_prefix_ + job_id + "/"};
}

}  // namespace vncgate::storage
