// SPDX-License-Identifier: Apache-2.0
#include "jobs/postgres/migrations.hpp"

#include <span>

namespace vncgate::jobs::postgres {
namespace {

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

// Append only: a released migration is never edited, a change is a new entry. The tables mirror the SQLite
// schema (src/jobs/sqlite/migrations.cpp) column for column; encoder_options is JSONB.
constexpr Migration kMigrations[] = {
    {1, "jobs, job transitions, segments", R"sql(
CREATE TABLE jobs (
  seq BIGSERIAL PRIMARY KEY,  -- creation order: newest-first listing and the page cursor
  id TEXT NOT NULL UNIQUE,
  bucket_id TEXT NOT NULL,
  server TEXT NOT NULL,
  target TEXT NOT NULL,
  provider TEXT NOT NULL,
  duration_s BIGINT NOT NULL CHECK (duration_s > 0),
  count INTEGER NOT NULL CHECK (count > 0),
  encoder_options JSONB NOT NULL CHECK (jsonb_typeof(encoder_options) = 'object'),
  state TEXT NOT NULL CHECK (state IN
    ('queued','connecting','recording','uploading','done','failed','cancelled')),
  failure_reason TEXT NOT NULL DEFAULT '',
  reconnects INTEGER NOT NULL DEFAULT 0,
  cancel_requested BOOLEAN NOT NULL DEFAULT false,
  created_unix_ms BIGINT NOT NULL,
  updated_unix_ms BIGINT NOT NULL
);
CREATE INDEX jobs_by_state ON jobs (state, seq);
CREATE INDEX jobs_by_server ON jobs (server, seq);

CREATE TABLE job_transitions (
  job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,  -- 0 = created (queued)
  state TEXT NOT NULL,
  at_unix_ms BIGINT NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (job_id, seq)
);

CREATE TABLE segments (
  job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  idx INTEGER NOT NULL CHECK (idx >= 1),
  state TEXT NOT NULL CHECK (state IN ('pending','recording','finished','uploaded','failed')),
  local_path TEXT NOT NULL DEFAULT '',
  object_key TEXT NOT NULL DEFAULT '',
  bytes BIGINT NOT NULL DEFAULT 0,
  duration_ms BIGINT NOT NULL DEFAULT 0,
  frames BIGINT NOT NULL DEFAULT 0,
  sha256 TEXT NOT NULL DEFAULT '',
  start_unix_ms BIGINT NOT NULL DEFAULT 0,
  end_unix_ms BIGINT NOT NULL DEFAULT 0,
  upload_attempts INTEGER NOT NULL DEFAULT 0,
  error TEXT NOT NULL DEFAULT '',
  updated_unix_ms BIGINT NOT NULL,
  PRIMARY KEY (job_id, idx)
);
)sql"},
    {2, "leases and fencing tokens", R"sql(
ALTER TABLE jobs ADD COLUMN owner TEXT NOT NULL DEFAULT '';         -- worker id; '' = never claimed
ALTER TABLE jobs ADD COLUMN fence_token BIGINT NOT NULL DEFAULT 0;  -- + 1 per claim
ALTER TABLE jobs ADD COLUMN lease_expires_unix_ms BIGINT NOT NULL DEFAULT 0;
CREATE INDEX jobs_active ON jobs (seq) WHERE state IN ('connecting', 'recording', 'uploading');
CREATE INDEX jobs_by_owner ON jobs (owner) WHERE state IN ('connecting', 'recording', 'uploading');
)sql"},
    {3, "the API key that asked for a job", R"sql(
ALTER TABLE jobs ADD COLUMN client TEXT NOT NULL DEFAULT '';  -- "key #N"; '' = no keys
CREATE INDEX jobs_queued_by_client ON jobs (client) WHERE state = 'queued';
)sql"},
    {4, "transcript search (tsvector)", R"sql(
CREATE TABLE transcript_lines (
  id BIGSERIAL PRIMARY KEY,
  job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  segment INTEGER NOT NULL,
  t_ms BIGINT NOT NULL,       -- into the segment
  at_unix_ms BIGINT NOT NULL,  -- the segment's start + t_ms
  line TEXT NOT NULL,
  -- 'simple': words as written, no stemming or stop words (a console's "no" and "on" count), as SQLite's FTS5
  words TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple', line)) STORED
);
CREATE INDEX transcript_lines_by_segment ON transcript_lines (job_id, segment);
CREATE INDEX transcript_lines_by_time ON transcript_lines (at_unix_ms, id);
CREATE INDEX transcript_lines_words ON transcript_lines USING GIN (words);
)sql"},
    {5, "console sessions across nodes", R"sql(
-- Serving nodes (roles all and api) and their heartbeats; a node silent past cluster.node_timeout_s is removed
-- by whichever node notices, and with it (cascade) its sessions and their links.
CREATE TABLE cluster_nodes (
  node_id TEXT PRIMARY KEY,
  url TEXT NOT NULL DEFAULT '',  -- cluster.advertise_url: where the others forward viewers; '' = none
  heartbeat_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- Live console sessions: one per target key cluster-wide, held by the node that runs its upstream.
CREATE TABLE console_sessions (
  session_id TEXT PRIMARY KEY,
  target_key TEXT NOT NULL UNIQUE,  -- SHA-256 (hex) of target + record flag: targets may hold secrets
  node_id TEXT NOT NULL REFERENCES cluster_nodes (node_id) ON DELETE CASCADE,
  info JSONB NOT NULL DEFAULT '{}',  -- the owner's last view of it (GET /api/v1/sessions), refreshed by heartbeat
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX console_sessions_by_node ON console_sessions (node_id);
-- One-time links: only SHA-256 digests of the tokens; redeeming deletes the row (single use).
CREATE TABLE console_links (
  token_sha256 BYTEA PRIMARY KEY,
  session_id TEXT NOT NULL REFERENCES console_sessions (session_id) ON DELETE CASCADE,
  view_only BOOLEAN NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX console_links_by_session ON console_links (session_id);
)sql"},
};

// Any constant shared by every vncgate: the key of the advisory lock migrations take turns on.
constexpr const char* kMigrationLock = "7660311842";

// For clean-up after a failure: a second failure must not hide the first.
void exec_quietly(Connection& connection, const std::string& sql) {
  try {
    if (connection.ok()) connection.exec(sql);
  } catch (const StorageError&) {
  }
}

int current_version(Connection& connection) {
  return static_cast<int>(connection.exec("SELECT coalesce(max(version), 0) FROM schema_migrations").integer(0, 0));
}

}  // namespace

int latest_schema_version() { return std::span(kMigrations).back().version; }

int migrate(Connection& connection) {
  connection.exec(std::string("SELECT pg_advisory_lock(") + kMigrationLock + ")");
  try {
    connection.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "applied_unix_ms BIGINT NOT NULL)");
    const int before = current_version(connection);
    if (before > latest_schema_version()) {
      throw StorageError("job database " + connection.label() + " has schema version " + std::to_string(before) +
                         ", newer than this vncgate knows (" + std::to_string(latest_schema_version()) +
                         "); run a newer vncgate or use another database");
    }
    for (const auto& migration : kMigrations) {
      if (migration.version <= before) continue;
      connection.exec("BEGIN");
      try {
        connection.exec(migration.sql);
        connection.run("record_migration",
                       "INSERT INTO schema_migrations (version, name, applied_unix_ms) "
                       "VALUES ($1, $2, (extract(epoch FROM now()) * 1000)::bigint)",
                       {migration.version, migration.name});
        connection.exec("COMMIT");
      } catch (...) {
        exec_quietly(connection, "ROLLBACK");
        throw;
      }
    }
    connection.exec(std::string("SELECT pg_advisory_unlock(") + kMigrationLock + ")");
    return before;
  } catch (...) {
    // A lost connection has dropped its lock already; otherwise give it back for the next process.
    exec_quietly(connection, std::string("SELECT pg_advisory_unlock(") + kMigrationLock + ")");
    throw;
  }
}

}  // namespace vncgate::jobs::postgres
