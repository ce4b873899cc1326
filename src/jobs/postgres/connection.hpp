// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "util/error.hpp"

struct pg_conn;
struct pg_result;

namespace vncgate::jobs::postgres {

// How to reach the database. `url` may hold the password; only `label` (the URL with its credentials masked)
// ever goes into a message or a log line.
struct ConnectionSettings {
  std::string url;    // postgresql://user[:password]@host[:port]/database[?libpq parameters]
  std::string label;  // the same, credentials masked
  int connect_timeout_s = 5;
  std::chrono::milliseconds lock_timeout{10000};  // a row lock held longer (a stopped worker) fails the statement
  std::chrono::milliseconds idle_in_transaction_timeout{60000};  // the server ends such a session, freeing its locks
};

// A statement or the connection failed. Everything the store throws from here is a StorageError; the retry
// loop asks what a second attempt can do about it.
class PgError : public StorageError {
 public:
  PgError(const std::string& message, std::string sqlstate, bool connection_lost)
      : StorageError(message), sqlstate_(std::move(sqlstate)), connection_lost_(connection_lost) {}
  const std::string& sqlstate() const { return sqlstate_; }
  // The connection is gone (server restarted or unreachable): nothing uncommitted survived on it.
  bool connection_lost() const { return connection_lost_; }
  // A serialization failure or deadlock: the transaction was rolled back and may simply run again.
  bool transient() const { return sqlstate_ == "40001" || sqlstate_ == "40P01"; }

 private:
  std::string sqlstate_;
  bool connection_lost_;
};

// A parameter in text format; nullopt is SQL NULL. Text is made storable: PostgreSQL refuses NUL bytes (a
// UsageError here) and invalid UTF-8 (replaced by U+FFFD).
class Param {
 public:
  Param(std::nullopt_t) {}  // NOLINT: implicit, like the others
  Param(std::string_view text);
  Param(const std::string& text) : Param(std::string_view(text)) {}
  Param(const char* text) : Param(std::string_view(text)) {}
  Param(std::int64_t value) : text_(std::to_string(value)) {}
  Param(int value) : text_(std::to_string(value)) {}
  Param(bool value) : text_(value ? "t" : "f") {}
  const char* c_str() const { return text_ ? text_->c_str() : nullptr; }

 private:
  std::optional<std::string> text_;
};

// The rows of one statement, in text format.
class Result {
 public:
  Result(pg_result* result, std::string label) : result_(result), label_(std::move(label)) {}
  ~Result();
  Result(Result&& other) noexcept;
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;
  Result& operator=(Result&&) = delete;

  int rows() const;
  bool null_at(int row, int column) const;
  std::string text(int row, int column) const;
  std::int64_t integer(int row, int column) const;  // throws StorageError when the column is not an integer
  bool boolean(int row, int column) const;

 private:
  pg_result* result_;
  std::string label_;
};

// One libpq connection. Statements run by name are prepared on first use and kept for the connection's life.
// Every failure throws PgError naming the database (label) and carrying the server's message and SQLSTATE.
// Not thread-safe: one user at a time (the pool hands it out).
class Connection {
 public:
  // Connects and applies the session settings; throws PgError (connection_lost) when it cannot.
  explicit Connection(const ConnectionSettings& settings);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // One statement with $1… parameters, prepared under `name` (a fixed name per SQL text).
  Result run(const char* name, const char* sql, const std::vector<Param>& params = {});
  // Text without parameters; may hold several statements (the result is the last one's).
  Result exec(const std::string& sql);
  // False once the connection has failed.
  bool ok() const;

  // For LISTEN: the socket to wait on, reading what arrived, and the channels notified since the last call.
  int socket() const;
  void consume_input();
  std::vector<std::string> notifications();

  const std::string& label() const { return label_; }

 private:
  Result checked(pg_result* result, std::string_view doing);

  pg_conn* conn_ = nullptr;
  std::string label_;
  std::set<std::string> prepared_;
};

}  // namespace vncgate::jobs::postgres
