// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <filesystem>

#include "storage/storage.hpp"

namespace vncgate::storage {

// file://DIR: objects are plain files DIR/<bucket>/<key>. Writes go to a hidden temporary file in the same
// directory and are renamed into place, so a reader never sees half an object and a crash leaves at most a
// temporary file (ignored by list()).
class LocalStorage final : public Storage {
 public:
  explicit LocalStorage(std::filesystem::path root);

  std::string describe() const override;
  void ensure_bucket(const std::string& bucket) override;
  PutResult put_file(const std::string& bucket, const std::string& key, const std::string& local_path) override;
  void probe(const std::string& bucket, std::chrono::milliseconds timeout) override;
  std::vector<ObjectInfo> list(const std::string& bucket, const std::string& prefix) override;
  std::optional<ObjectInfo> stat(const std::string& bucket, const std::string& key) override;
  std::optional<std::string> read(const std::string& bucket, const std::string& key,
                                  std::optional<ByteRange> range) override;
  std::optional<std::string> local_file(const std::string& bucket, const std::string& key) override;

  // The file that holds bucket/key (it may not exist).
  std::filesystem::path object_path(const std::string& bucket, const std::string& key) const;

 private:
  std::filesystem::path root_;
};

// Copies `from` to `to` through a temporary file beside `to` and a rename; creates the parent directories.
// Throws StorageError naming `what` on failure (the temporary file is removed).
void copy_file_atomically(const std::filesystem::path& from, const std::filesystem::path& to, const std::string& what);

}  // namespace vncgate::storage
