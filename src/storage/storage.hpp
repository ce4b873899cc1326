// SPDX-License-Identifier: Apache-2.0
// Where finished recordings go. One interface, two backends: a local directory (file://DIR, the default) and
// S3-compatible object storage (s3://, MinIO, AWS, Ceph RGW).
//
// Calls block (file and network I/O, retries with sleeps): run them on a worker thread, never on an
// io_context thread that serves other connections. One Storage object may be used from several threads.
// Ordinary outcomes ("no such object") are return values; faults throw vncgate::StorageError (or ConfigError
// for a bad URL or missing credentials). Messages name bucket and key, never credentials.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vncgate::storage {

struct ObjectInfo {
  std::string key;
  std::uint64_t size = 0;
  std::string etag;  // as the backend reports it (S3: quoted MD5 or multipart tag); empty for file://
};

// Bytes [offset, offset + length) of an object; without length, to the end. Past the end: empty result.
struct ByteRange {
  std::uint64_t offset = 0;
  std::optional<std::uint64_t> length;
};

struct PutResult {
  std::uint64_t size = 0;
  std::string etag;
  int parts = 1;     // > 1 when uploaded as a multipart upload
  int attempts = 1;  // requests that were retried count here too
};

// An upload that starts while its local file is still being written. The file must only grow by appending
// (a fragmented MP4 does): bytes below a size once reported never change. Used from one thread.
class GrowingUpload {
 public:
  virtual ~GrowingUpload() = default;
  // The file has grown to `size` bytes: sends what is ready (S3: every whole part). Blocks for the network;
  // throws StorageError, after which finish() still works (it falls back to a whole upload).
  virtual void grown(std::uint64_t size) = 0;
  // The file is complete: sends the rest and makes the object visible. Throws StorageError like put_file.
  virtual PutResult finish() = 0;
  // Bytes already stored by grown().
  virtual std::uint64_t streamed() const = 0;
};

class Storage {
 public:
  virtual ~Storage() = default;

  // "file:///var/lib/vncgate" or "s3://host:port (path-style, region us-east-1)": for logs, no secrets.
  virtual std::string describe() const = 0;

  // Creates the bucket when it does not exist (an existing one is fine).
  virtual void ensure_bucket(const std::string& bucket) = 0;

  // Uploads the finished local file `local_path` as bucket/key, streamed: memory stays bounded by one part.
  // Replaces an existing object. The local file is never modified or removed; when the upload finally fails
  // the StorageError says so and names it, so the caller can retry later.
  virtual PutResult put_file(const std::string& bucket, const std::string& key, const std::string& local_path) = 0;

  // An upload of `local_path` that may begin before the file is complete (see GrowingUpload). By default
  // nothing moves until finish(), which is put_file; S3 streams parts while the file grows.
  virtual std::unique_ptr<GrowingUpload> begin_growing_upload(const std::string& bucket, const std::string& key,
                                                              const std::string& local_path);

  // Is the storage there? One quick request, no retries, at most `timeout` (health checks: a stalled endpoint
  // must not hold them). Throws StorageError naming the fault; a missing bucket is not one.
  virtual void probe(const std::string& bucket, std::chrono::milliseconds timeout) = 0;

  // Objects whose keys start with `prefix`, sorted by key. A missing bucket lists as empty.
  virtual std::vector<ObjectInfo> list(const std::string& bucket, const std::string& prefix = "") = 0;

  // Size and tag of one object; nullopt when it does not exist.
  virtual std::optional<ObjectInfo> stat(const std::string& bucket, const std::string& key) = 0;

  // The object's bytes (all, or `range`) in memory: for ranges and small objects. nullopt when missing.
  virtual std::optional<std::string> read(const std::string& bucket, const std::string& key,
                                          std::optional<ByteRange> range = std::nullopt) = 0;

  // The file that holds bucket/key when this backend keeps objects as plain files (file://), for readers that
  // seek around in it; nullopt for other backends or when the object does not exist.
  virtual std::optional<std::string> local_file(const std::string& /*bucket*/, const std::string& /*key*/) {
    return std::nullopt;
  }
};

// How a job's files are laid out: bucket-per-job (the seed: the bucket is the job's bucket id) or one shared
// bucket with one key prefix per job.
struct JobLocation {
  std::string bucket;
  std::string prefix;  // "" or "<job>/"; object keys are prefix + file name
};

// Reads an environment variable; tests pass their own.
using GetEnv = std::function<std::optional<std::string>(const std::string& name)>;
GetEnv process_env();

// A storage URL with its backend opened:
//   file:///DIR            DIR/<bucket>/<key>; always bucket-per-job
//   s3://HOST[:PORT][/BUCKET[/PREFIX]][?region=R&style=path|virtual&tls=on|off&ca_file=F&insecure=1
//        &part_size_mb=N]
//     without BUCKET: bucket-per-job; with BUCKET: one bucket, keys under [PREFIX/]<job>/.
//     Credentials from VNCGATE_S3_ACCESS_KEY / VNCGATE_S3_SECRET_KEY (or *_FILE naming a file holding them),
//     optional VNCGATE_S3_SESSION_TOKEN. TLS is on by default.
class StorageSite {
 public:
  // Throws ConfigError naming the part of the URL that is wrong, or the missing variable.
  static StorageSite open(const std::string& url, const GetEnv& env = process_env());

  Storage& storage() const { return *storage_; }
  std::shared_ptr<Storage> shared_storage() const { return storage_; }
  // Where job `job_id` (the seed's bucket id: lowercase letters, digits, '-') keeps its files.
  JobLocation locate_job(const std::string& job_id) const;

 private:
  std::shared_ptr<Storage> storage_;
  std::string shared_bucket_;  // empty: bucket-per-job
  std::string base_prefix_;    // "" or "a/b/"
};

// Throws StorageError when `key` is empty, absolute, has empty, "." or ".." segments, or control characters:
// such keys would escape DIR on file:// and mean different objects on different S3 servers.
void check_key(const std::string& key);
// S3 bucket naming rules (3-63 of a-z 0-9 . -, starting and ending with a letter or digit); also for file://.
void check_bucket(const std::string& bucket);

}  // namespace vncgate::storage
