// SPDX-License-Identifier: Apache-2.0
#include "jobs/sqlite/migrations.hpp"

#include <chrono>
#include <span>
#include <string>

#include "util/error.hpp"

namespace vncgate::jobs::sqlite {
namespace {

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

// Append only: a released migration is never edited, a change is a new entry.
constexpr Migration kMigrations[] = {
    {1, "jobs, job transitions, segments", R"sql(
CREATE TABLE jobs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- creation order: newest-first listing and the page cursor
  id TEXT NOT NULL UNIQUE,
  bucket_id TEXT NOT NULL,
  server TEXT NOT NULL,
  target TEXT NOT NULL,
  provider TEXT NOT NULL,
  duration_s INTEGER NOT NULL CHECK (duration_s > 0),
  count INTEGER NOT NULL CHECK (count > 0),
  encoder_options TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN
    ('queued','connecting','recording','uploading','done','failed','cancelled')),
  failure_reason TEXT NOT NULL DEFAULT '',
  reconnects INTEGER NOT NULL DEFAULT 0,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  created_unix_ms INTEGER NOT NULL,
  updated_unix_ms INTEGER NOT NULL
);
CREATE INDEX jobs_by_state ON jobs (state, seq);
CREATE INDEX jobs_by_server ON jobs (server, seq);

CREATE TABLE job_transitions (
  job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,  -- 0 = created (queued)
  state TEXT NOT NULL,
  at_unix_ms INTEGER NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (job_id, seq)
) WITHOUT ROWID;

CREATE TABLE segments (
  job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  idx INTEGER NOT NULL CHECK (idx >= 1),
  state TEXT NOT NULL CHECK (state IN ('pending','recording','finished','uploaded','failed')),
  local_path TEXT NOT NULL DEFAULT '',
  object_key TEXT NOT NULL DEFAULT '',
  bytes INTEGER NOT NULL DEFAULT 0,
  duration_ms INTEGER NOT NULL DEFAULT 0,
  frames INTEGER NOT NULL DEFAULT 0,
  sha256 TEXT NOT NULL DEFAULT '',
  start_unix_ms INTEGER NOT NULL DEFAULT 0,
  end_unix_ms INTEGER NOT NULL DEFAULT 0,
  upload_attempts INTEGER NOT NULL DEFAULT 0,
  error TEXT NOT NULL DEFAULT '',
  updated_unix_ms INTEGER NOT NULL,
  PRIMARY KEY (job_id, idx)
) WITHOUT ROWID;
)sql"},
    {2, "leases and fencing tokens", R"sql(
ALTER TABLE jobs ADD COLUMN owner TEXT NOT NULL DEFAULT '';          -- worker id; '' = never claimed
ALTER TABLE jobs ADD COLUMN fence_token INTEGER NOT NULL DEFAULT 0;  -- + 1 per claim
ALTER TABLE jobs ADD COLUMN lease_expires_unix_ms INTEGER NOT NULL DEFAULT 0;
CREATE INDEX jobs_active ON jobs (seq) WHERE state IN ('connecting', 'recording', 'uploading');
CREATE INDEX jobs_by_owner ON jobs (owner) WHERE state IN ('connecting', 'recording', 'uploading');
)sql"},
    {3, "the API key that asked for a job", R"sql(
ALTER TABLE jobs ADD COLUMN client TEXT NOT NULL DEFAULT '';  -- "key #N"; '' = no keys
CREATE INDEX jobs_queued_by_client ON jobs (client) WHERE state = 'queued';
)sql"},
    {4, "transcript search (FTS5)", R"sql(
CREATE TABLE transcript_lines (
  id INTEGER PRIMARY KEY,
  job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  segment INTEGER NOT NULL,
  t_ms INTEGER NOT NULL,       -- into the segment
  at_unix_ms INTEGER NOT NULL,  -- the segment's start + t_ms
  line TEXT NOT NULL
);
CREATE INDEX transcript_lines_by_segment ON transcript_lines (job_id, segment);
CREATE INDEX transcript_lines_by_time ON transcript_lines (at_unix_ms, id);
-- The words of each line, kept in step with transcript_lines by the triggers (external content).
CREATE VIRTUAL TABLE transcript_words USING fts5 (line, content = 'transcript_lines', content_rowid = 'id');
CREATE TRIGGER transcript_lines_added AFTER INSERT ON transcript_lines BEGIN
  INSERT INTO transcript_words (rowid, line) VALUES (new.id, new.line);
END;
CREATE TRIGGER transcript_lines_removed AFTER DELETE ON transcript_lines BEGIN
  INSERT INTO transcript_words (transcript_words, rowid, line) VALUES ('delete', old.id, old.line);
END;
)sql"},
};

int current_version(Database& db) {
  auto stmt = db.prepare("SELECT coalesce(max(version), 0) FROM schema_migrations");
  auto query = stmt.start();
  query.step();
  return static_cast<int>(query.int_at(0));
}

}  // namespace

int latest_schema_version() { return std::span(kMigrations).back().version; }

int migrate(Database& db, int up_to) {
  db.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
      "applied_unix_ms INTEGER NOT NULL)");
  const int before = current_version(db);
  if (before > latest_schema_version()) {
    throw StorageError("job database " + db.path() + " has schema version " + std::to_string(before) +
                       ", newer than this vncgate knows (" + std::to_string(latest_schema_version()) +
                       "); run a newer vncgate or use another file");
  }
  for (const auto& migration : kMigrations) {
    if (migration.version <= before || migration.version > up_to) continue;
    Transaction transaction(db);
    db.exec(migration.sql);
    auto record = db.prepare("INSERT INTO schema_migrations (version, name, applied_unix_ms) VALUES (?, ?, ?)");
    auto now =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    record.start().bind(1, migration.version).bind(2, migration.name).bind(3, static_cast<std::int64_t>(now)).run();
    transaction.commit();
  }
  return before;
}

}  // namespace vncgate::jobs::sqlite
