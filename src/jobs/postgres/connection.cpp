// SPDX-License-Identifier: Apache-2.0
#include "jobs/postgres/connection.hpp"

#include <libpq-fe.h>

#include <array>
#include <charconv>

#include "util/log.hpp"

namespace vncgate::jobs::postgres {
namespace {

// Length of the valid UTF-8 sequence at `text[i]`, or 0.
std::size_t utf8_sequence(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  unsigned min = 0;
  unsigned code = 0;
  if ((c & 0xE0) == 0xC0) {
    n = 2, min = 0x80, code = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3, min = 0x800, code = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4, min = 0x10000, code = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    code = (code << 6) | (byte(i + k) & 0x3F);
  }
  if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return 0;
  return n;
}

std::string storable_text(std::string_view text) {
  if (text.find('\0') != std::string_view::npos) {
    throw UsageError("text with a NUL byte cannot be stored in the job database");
  }
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto n = utf8_sequence(text, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  for (auto& c : text)
    if (c == '\n') c = ' ';
  return text;
}

// SQLSTATEs after which the session is gone: connection exceptions (08…), and the server shutting down or
// starting up (57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now).
bool ends_session(std::string_view sqlstate) {
  return sqlstate.substr(0, 2) == "08" || sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03";
}

// Server notices ("relation already exists, skipping") are not for stderr.
void log_notice(void*, const char* message) { spdlog::debug("job database: {}", trimmed(message)); }

// The password of a URL (userinfo after ':' and any password= parameter), to scrub from libpq's messages
// about a URL it could not parse.
std::vector<std::string> url_secrets(const std::string& url) {
  std::vector<std::string> secrets;
  const auto scheme_end = url.find("://");
  if (scheme_end != std::string::npos) {
    const auto start = scheme_end + 3;
    const auto at = url.rfind('@', url.find_first_of("?", start));
    if (at != std::string::npos && at > start) {
      const auto colon = url.find(':', start);
      if (colon != std::string::npos && colon < at) secrets.push_back(url.substr(colon + 1, at - colon - 1));
    }
  }
  for (auto pos = url.find("password="); pos != std::string::npos; pos = url.find("password=", pos + 1)) {
    const auto begin = pos + 9;
    secrets.push_back(url.substr(begin, url.find('&', begin) - begin));
  }
  return secrets;
}

std::string scrubbed(std::string message, const std::string& url) {
  for (const auto& secret : url_secrets(url)) {
    if (secret.empty()) continue;
    for (auto pos = message.find(secret); pos != std::string::npos; pos = message.find(secret, pos + 3))
      message.replace(pos, secret.size(), "***");
  }
  return message;
}

}  // namespace

Param::Param(std::string_view text) : text_(storable_text(text)) {}

Result::~Result() { PQclear(result_); }

Result::Result(Result&& other) noexcept : result_(other.result_), label_(std::move(other.label_)) {
  other.result_ = nullptr;
}

int Result::rows() const { return PQntuples(result_); }

bool Result::null_at(int row, int column) const { return PQgetisnull(result_, row, column) != 0; }

std::string Result::text(int row, int column) const {
  return std::string(PQgetvalue(result_, row, column), static_cast<std::size_t>(PQgetlength(result_, row, column)));
}

std::int64_t Result::integer(int row, int column) const {
  const char* text = PQgetvalue(result_, row, column);
  const auto length = static_cast<std::size_t>(PQgetlength(result_, row, column));
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text, text + length, value);
  if (ec != std::errc() || end != text + length) {
    throw StorageError("job database " + label_ + ": expected an integer in column " +
                       std::string(PQfname(result_, column)) + ", got \"" + std::string(text, length) + "\"");
  }
  return value;
}

bool Result::boolean(int row, int column) const { return PQgetvalue(result_, row, column)[0] == 't'; }

Connection::Connection(const ConnectionSettings& settings) : label_(settings.label) {
  // Our defaults come before the URL, so that parameters the URL sets win (expand_dbname).
  const auto timeout = std::to_string(settings.connect_timeout_s);
  const std::array<const char*, 8> keys = {"connect_timeout",  "application_name",    "keepalives", "keepalives_idle",
                                           "keepalives_count", "keepalives_interval", "dbname",     nullptr};
  const std::array<const char*, 8> values = {timeout.c_str(),      "vncgate", "1", "10", "3", "5",
                                             settings.url.c_str(), nullptr};
  conn_ = PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1);
  if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
    const std::string reason = conn_ ? trimmed(PQerrorMessage(conn_)) : "out of memory";
    PQfinish(conn_);
    conn_ = nullptr;
    throw PgError("job database " + label_ + ": cannot connect (" + scrubbed(reason, settings.url) + ")", "", true);
  }
  PQsetNoticeProcessor(conn_, log_notice, nullptr);
  exec("SET lock_timeout = " + std::to_string(settings.lock_timeout.count()) +
       "; SET idle_in_transaction_session_timeout = " + std::to_string(settings.idle_in_transaction_timeout.count()));
}

Connection::~Connection() { PQfinish(conn_); }

bool Connection::ok() const { return PQstatus(conn_) == CONNECTION_OK; }

Result Connection::checked(pg_result* result, std::string_view doing) {
  const auto status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return Result(result, label_);
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const std::string sqlstate = state ? state : "";
  const char* text = result ? PQresultErrorMessage(result) : nullptr;
  std::string message = trimmed(text && *text ? text : PQerrorMessage(conn_));
  if (message.empty()) message = "no answer from the server";
  PQclear(result);
  const bool lost = PQstatus(conn_) != CONNECTION_OK || ends_session(sqlstate);
  throw PgError("job database " + label_ + ": " + message + (sqlstate.empty() ? "" : " [SQLSTATE " + sqlstate + "]") +
                    " while " + std::string(doing),
                sqlstate, lost);
}

Result Connection::run(const char* name, const char* sql, const std::vector<Param>& params) {
  if (!prepared_.contains(name)) {
    checked(PQprepare(conn_, name, sql, static_cast<int>(params.size()), nullptr), std::string("preparing ") + name);
    prepared_.insert(name);
  }
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p.c_str());
  return checked(PQexecPrepared(conn_, name, static_cast<int>(values.size()), values.data(), nullptr, nullptr, 0),
                 std::string("running ") + name);
}

Result Connection::exec(const std::string& sql) {
  return checked(PQexec(conn_, sql.c_str()), "running " + sql.substr(0, 60));
}

int Connection::socket() const { return PQsocket(conn_); }

void Connection::consume_input() {
  if (PQconsumeInput(conn_) != 1 || PQstatus(conn_) != CONNECTION_OK) {
    throw PgError("job database " + label_ + ": " + trimmed(PQerrorMessage(conn_)) + " while waiting for notifications",
                  "", true);
  }
}

std::vector<std::string> Connection::notifications() {
  std::vector<std::string> channels;
  while (PGnotify* notify = PQnotifies(conn_)) {
    channels.emplace_back(notify->relname);
    PQfreemem(notify);
  }
  return channels;
}

}  // namespace vncgate::jobs::postgres
