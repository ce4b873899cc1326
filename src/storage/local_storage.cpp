// SPDX-License-Identifier: Apache-2.0
#include "storage/local_storage.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <system_error>

#include "util/error.hpp"

namespace vncgate::storage {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kTempPrefix = ".vncgate-tmp-";

fs::path temp_beside(const fs::path& target) {
  static std::atomic<unsigned> counter{0};
  return target.parent_path() / (std::string(kTempPrefix) + std::to_string(::getpid()) + "-" +
                                 std::to_string(counter.fetch_add(1)) + "-" + target.filename().string());
}

std::string errno_text(const std::error_code& ec) { return ec.message(); }

}  // namespace

void copy_file_atomically(const fs::path& from, const fs::path& to, const std::string& what) {
  std::error_code ec;
  fs::create_directories(to.parent_path(), ec);
  if (ec) throw StorageError(what + ": creating " + to.parent_path().string() + ": " + errno_text(ec));
  const fs::path temp = temp_beside(to);
  fs::copy_file(from, temp, fs::copy_options::overwrite_existing, ec);
  if (!ec) fs::rename(temp, to, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(temp, ignored);
    throw StorageError(what + ": " + errno_text(ec));
  }
}

LocalStorage::LocalStorage(fs::path root) : root_(std::move(root)) {}

std::string LocalStorage::describe() const { return "file://" + root_.string(); }

fs::path LocalStorage::object_path(const std::string& bucket, const std::string& key) const {
  check_bucket(bucket);
  check_key(key);
  return root_ / bucket / key;
}

void LocalStorage::ensure_bucket(const std::string& bucket) {
  check_bucket(bucket);
  std::error_code ec;
  fs::create_directories(root_ / bucket, ec);
  if (ec) throw StorageError("creating bucket directory " + (root_ / bucket).string() + ": " + errno_text(ec));
}

PutResult LocalStorage::put_file(const std::string& bucket, const std::string& key, const std::string& local_path) {
  const fs::path target = object_path(bucket, key);
  std::error_code ec;
  const auto size = fs::file_size(local_path, ec);
  if (ec) throw StorageError("upload of " + local_path + " to " + bucket + "/" + key + ": " + errno_text(ec));
  copy_file_atomically(local_path, target,
                       "storing " + local_path + " as " + target.string() + " (the local file is kept)");
  PutResult result;
  result.size = size;
  return result;
}

void LocalStorage::probe(const std::string& bucket, std::chrono::milliseconds) {
  check_bucket(bucket);
  std::error_code ec;  // the root appears with the first upload; a fresh one is created here
  fs::create_directories(root_, ec);
  if (ec || !fs::is_directory(root_, ec))
    throw StorageError("storage directory " + root_.string() + " is unusable" + (ec ? ": " + errno_text(ec) : ""));
}

std::vector<ObjectInfo> LocalStorage::list(const std::string& bucket, const std::string& prefix) {
  check_bucket(bucket);
  const fs::path dir = root_ / bucket;
  std::vector<ObjectInfo> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    if (it->path().filename().string().starts_with(kTempPrefix)) continue;
    std::string key = fs::relative(it->path(), dir).generic_string();
    if (!key.starts_with(prefix)) continue;
    out.push_back(ObjectInfo{std::move(key), it->file_size(), ""});
  }
  if (ec) throw StorageError("listing " + dir.string() + ": " + errno_text(ec));
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
  return out;
}

std::optional<ObjectInfo> LocalStorage::stat(const std::string& bucket, const std::string& key) {
  const fs::path path = object_path(bucket, key);
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) return std::nullopt;
  return ObjectInfo{key, size, ""};
}

std::optional<std::string> LocalStorage::local_file(const std::string& bucket, const std::string& key) {
  const fs::path path = object_path(bucket, key);
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  return path.string();
}

std::optional<std::string> LocalStorage::read(const std::string& bucket, const std::string& key,
                                              std::optional<ByteRange> range) {
  const fs::path path = object_path(bucket, key);
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::error_code ec;
  const std::uint64_t size = fs::file_size(path, ec);
  if (ec) throw StorageError("reading " + path.string() + ": " + errno_text(ec));
  const std::uint64_t first = range ? std::min(range->offset, size) : 0;
  std::uint64_t count = size - first;
  if (range && range->length) count = std::min(count, *range->length);
  std::string bytes(count, '\0');
  in.seekg(static_cast<std::streamoff>(first));
  in.read(bytes.data(), static_cast<std::streamsize>(count));
  if (static_cast<std::uint64_t>(in.gcount()) != count) throw StorageError("reading " + path.string() + ": short read");
  return bytes;
}

}  // namespace vncgate::storage
