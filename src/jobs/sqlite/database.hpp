// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace vncgate::jobs::sqlite {

class Statement;

// One SQLite connection, opened read-write (created if missing) in WAL mode with foreign keys on, a busy
// timeout (other processes holding the write lock are waited for, not failed at once) and synchronous=FULL
// (a commit is on disk when it returns). Every failure throws StorageError naming the file. Not thread-safe:
// the owner serialises calls.
class Database {
 public:
  Database(const std::string& path, int busy_timeout_ms);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs one or more statements that return no rows of interest.
  void exec(const std::string& sql);
  Statement prepare(std::string_view sql);
  // Rows changed by the last INSERT/UPDATE/DELETE.
  std::int64_t changes() const;
  const std::string& path() const { return path_; }
  // Throws StorageError for SQLite result `rc` while `doing` something, with SQLite's own message.
  [[noreturn]] void fail(int rc, std::string_view doing) const;

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
};

// A bound, running use of a Statement; resets it (and clears bindings) when it goes out of scope, so a
// statement left half-stepped by an exception never holds a read lock.
class Query {
 public:
  Query(Database& db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Query();
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  // Parameters are 1-based, as in SQLite.
  Query& bind(int index, std::int64_t value);
  Query& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
  Query& bind(int index, std::string_view value);
  Query& bind(int index, const std::string& value) { return bind(index, std::string_view(value)); }
  Query& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
  Query& bind_null(int index);
  // True when a row is ready; false when the statement is done. Throws StorageError on failure.
  bool step();
  // Runs to completion (for INSERT/UPDATE/DELETE).
  void run();

  std::int64_t int_at(int column) const;
  std::string text_at(int column) const;
  bool null_at(int column) const;

 private:
  Database& db_;
  sqlite3_stmt* stmt_;
};

// A prepared statement kept for the life of the connection.
class Statement {
 public:
  Statement(Database& db, sqlite3_stmt* stmt) : db_(&db), stmt_(stmt) {}
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;

  Query start() { return Query(*db_, stmt_); }

 private:
  Database* db_;
  sqlite3_stmt* stmt_;
};

// Mode::write is BEGIN IMMEDIATE (takes the write lock up front, so a read-then-write cannot deadlock against
// another writer); Mode::read a plain BEGIN (one snapshot for several reads). Rolls back unless commit() was
// called.
class Transaction {
 public:
  enum class Mode { read, write };
  explicit Transaction(Database& db, Mode mode = Mode::write);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  Database& db_;
  bool open_ = true;
};

}  // namespace vncgate::jobs::sqlite
