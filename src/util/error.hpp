// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace vncgate {

// What kind of fault an Error is; decides exit codes in the CLI and HTTP status in the service.
enum class ErrorCategory { protocol, auth, io, provider, codec, storage, config, usage };

std::string_view to_string(ErrorCategory category);

// The one exception type for faults (malformed wire data, refused auth, I/O, ...). Ordinary outcomes such as
// "need more bytes" are return values, never exceptions. Messages are written for the user who has to act.
class Error : public std::runtime_error {
 public:
  Error(ErrorCategory category, const std::string& message) : std::runtime_error(message), category_(category) {}
  ErrorCategory category() const noexcept { return category_; }

 private:
  ErrorCategory category_;
};

class ProtocolError : public Error {
 public:
  explicit ProtocolError(const std::string& message) : Error(ErrorCategory::protocol, message) {}
};

class AuthError : public Error {
 public:
  explicit AuthError(const std::string& message) : Error(ErrorCategory::auth, message) {}
};

class IoError : public Error {
 public:
  explicit IoError(const std::string& message) : Error(ErrorCategory::io, message) {}
};

// The peer closed the stream cleanly; a kind of I/O fault for whoever expected more bytes.
class EndOfStream : public IoError {
 public:
  explicit EndOfStream(const std::string& message = "connection closed by peer") : IoError(message) {}
};

// Encoding or decoding media failed (libav*, a corrupt recording).
class CodecError : public Error {
 public:
  explicit CodecError(const std::string& message) : Error(ErrorCategory::codec, message) {}
};

// A console provider (OpenStack, Proxmox) refused or failed a step; the message names the target and the step.
class ProviderError : public Error {
 public:
  explicit ProviderError(const std::string& message) : Error(ErrorCategory::provider, message) {}
};

// Persistent state failed: the job database (cannot open, not a database, locked past the busy timeout) or
// object storage (local directory, S3/MinIO). The message names the file, bucket/key or server and the
// operation; for a failed upload, the local file that was kept.
class StorageError : public Error {
 public:
  explicit StorageError(const std::string& message) : Error(ErrorCategory::storage, message) {}
};

class ConfigError : public Error {
 public:
  explicit ConfigError(const std::string& message) : Error(ErrorCategory::config, message) {}
};

class UsageError : public Error {
 public:
  explicit UsageError(const std::string& message) : Error(ErrorCategory::usage, message) {}
};

}  // namespace vncgate
