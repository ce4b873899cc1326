// SPDX-License-Identifier: Apache-2.0
#include "jobs/sqlite/database.hpp"

#include <sqlite3.h>

#include "util/error.hpp"

namespace vncgate::jobs::sqlite {

Database::Database(const std::string& path, int busy_timeout_ms) : path_(path) {
  int rc =
      sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    throw StorageError("job database " + path + ": cannot open (" + message + ")");
  }
  sqlite3_extended_result_codes(db_, 1);
  try {
    sqlite3_busy_timeout(db_, busy_timeout_ms);
    // The first statement reads the header: a file that is not SQLite fails here with "file is not a database".
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=FULL");
    exec("PRAGMA foreign_keys=ON");
  } catch (...) {
    sqlite3_close(db_);
    throw;
  }
}

Database::~Database() { sqlite3_close(db_); }

void Database::exec(const std::string& sql) {
  char* error = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
  if (rc != SQLITE_OK) {
    std::string message = error ? error : sqlite3_errstr(rc);
    sqlite3_free(error);
    throw StorageError("job database " + path_ + ": " + message + " (while running " + sql.substr(0, 60) + ")");
  }
}

Statement Database::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) fail(rc, "preparing " + std::string(sql.substr(0, 60)));
  return Statement(*this, stmt);
}

std::int64_t Database::changes() const { return sqlite3_changes64(db_); }

void Database::fail(int rc, std::string_view doing) const {
  throw StorageError("job database " + path_ + ": " + sqlite3_errmsg(db_) + " [" + sqlite3_errstr(rc) + "] while " +
                     std::string(doing));
}

Query::~Query() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Query& Query::bind(int index, std::int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) db_.fail(rc, "binding a parameter");
  return *this;
}

Query& Query::bind(int index, std::string_view value) {
  int rc = sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK) db_.fail(rc, "binding a parameter");
  return *this;
}

Query& Query::bind_null(int index) {
  int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK) db_.fail(rc, "binding a parameter");
  return *this;
}

bool Query::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  db_.fail(rc, std::string("running ") + sqlite3_sql(stmt_));
}

void Query::run() {
  while (step()) {
  }
}

std::int64_t Query::int_at(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string Query::text_at(int column) const {
  auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  return text ? std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))) : std::string();
}

bool Query::null_at(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement::Statement(Statement&& other) noexcept : db_(other.db_), stmt_(other.stmt_) { other.stmt_ = nullptr; }

Transaction::Transaction(Database& db, Mode mode) : db_(db) {
  db_.exec(mode == Mode::write ? "BEGIN IMMEDIATE" : "BEGIN");
}

Transaction::~Transaction() {
  if (!open_) return;
  try {
    db_.exec("ROLLBACK");
  } catch (const StorageError&) {
    // SQLite already rolled back (e.g. after SQLITE_FULL); nothing more to undo.
  }
}

void Transaction::commit() {
  db_.exec("COMMIT");
  open_ = false;
}

}  // namespace vncgate::jobs::sqlite
