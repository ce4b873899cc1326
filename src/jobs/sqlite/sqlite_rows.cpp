// SPDX-License-Identifier: Apache-2.0
#include "jobs/sqlite/sqlite_rows.hpp"

#include <chrono>

namespace vncgate::jobs::sqlite {
namespace {

#define VNCGATE_JOB_COLUMNS                                                                                          \
  "id, bucket_id, server, target, provider, duration_s, count, encoder_options, state, failure_reason, "             \
  "reconnects, cancel_requested, created_unix_ms, updated_unix_ms, owner, fence_token, lease_expires_unix_ms, seq, " \
  "client"
#define VNCGATE_SEGMENT_COLUMNS                                                                     \
  "job_id, idx, state, local_path, object_key, bytes, duration_ms, frames, sha256, start_unix_ms, " \
  "end_unix_ms, upload_attempts, error, updated_unix_ms"
#define VNCGATE_ACTIVE "('connecting', 'recording', 'uploading')"

// Columns as in VNCGATE_JOB_COLUMNS; transitions are loaded separately.
Job job_from_row(const Query& row, const std::string& path) {
  Job job;
  job.id = row.text_at(0);
  job.bucket_id = row.text_at(1);
  job.server = row.text_at(2);
  job.target = row.text_at(3);
  job.provider = row.text_at(4);
  job.duration_s = row.int_at(5);
  job.count = static_cast<int>(row.int_at(6));
  job.encoder_options = nlohmann::json::parse(row.text_at(7), nullptr, /*allow_exceptions=*/false);
  auto state = parse_job_state(row.text_at(8));
  if (!state || job.encoder_options.is_discarded()) {
    throw StorageError("job database " + path + ": job " + job.id + " has a damaged row");
  }
  job.state = *state;
  job.failure_reason = row.text_at(9);
  job.reconnects = static_cast<int>(row.int_at(10));
  job.cancel_requested = row.int_at(11) != 0;
  job.created_unix_ms = row.int_at(12);
  job.updated_unix_ms = row.int_at(13);
  job.owner = row.text_at(14);
  job.fence_token = row.int_at(15);
  job.lease_expires_unix_ms = row.int_at(16);
  job.client = row.text_at(18);
  return job;
}

Segment segment_from_row(const Query& row, const std::string& path) {
  Segment segment;
  segment.job_id = row.text_at(0);
  segment.index = static_cast<int>(row.int_at(1));
  auto state = parse_segment_state(row.text_at(2));
  if (!state) {
    throw StorageError("job database " + path + ": segment " + std::to_string(segment.index) + " of job " +
                       segment.job_id + " has a damaged row");
  }
  segment.state = *state;
  segment.local_path = row.text_at(3);
  segment.object_key = row.text_at(4);
  segment.bytes = row.int_at(5);
  segment.duration_ms = row.int_at(6);
  segment.frames = row.int_at(7);
  segment.sha256 = row.text_at(8);
  segment.start_unix_ms = row.int_at(9);
  segment.end_unix_ms = row.int_at(10);
  segment.upload_attempts = static_cast<int>(row.int_at(11));
  segment.error = row.text_at(12);
  segment.updated_unix_ms = row.int_at(13);
  return segment;
}

std::optional<std::string> first_id(Query& query) {
  if (!query.step()) return std::nullopt;
  return query.text_at(0);
}

}  // namespace

Statements::Statements(Database& db)
    : insert_job(db.prepare(
          "INSERT INTO jobs (id, bucket_id, server, target, provider, duration_s, count, encoder_options, state, "
          "created_unix_ms, updated_unix_ms, client) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?9, ?9, ?10)")),
      insert_transition(
          db.prepare("INSERT INTO job_transitions (job_id, seq, state, at_unix_ms, reason) VALUES (?, ?, ?, ?, ?)")),
      select_job(db.prepare("SELECT " VNCGATE_JOB_COLUMNS " FROM jobs WHERE id = ?")),
      select_transitions(
          db.prepare("SELECT state, at_unix_ms, reason FROM job_transitions WHERE job_id = ? ORDER BY seq")),
      list_jobs(db.prepare("SELECT " VNCGATE_JOB_COLUMNS
                           " FROM jobs WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR server = ?2) "
                           "AND (?3 IS NULL OR seq < ?3) ORDER BY seq DESC LIMIT ?4")),
      update_job(db.prepare(
          "UPDATE jobs SET state = ?2, failure_reason = ?3, reconnects = ?4, cancel_requested = ?5, owner = ?6, "
          "fence_token = ?7, lease_expires_unix_ms = ?8, updated_unix_ms = ?9 WHERE id = ?1")),
      pick_expired(db.prepare("SELECT id FROM jobs WHERE state IN " VNCGATE_ACTIVE
                              " AND owner <> ?1 AND lease_expires_unix_ms < ?2 ORDER BY seq LIMIT 1")),
      pick_queued(
          db.prepare("SELECT id FROM jobs WHERE state = 'queued' AND cancel_requested = 0 ORDER BY seq LIMIT 1")),
      active_of(db.prepare("SELECT id FROM jobs WHERE owner = ?1 AND state IN " VNCGATE_ACTIVE " ORDER BY seq")),
      count_by_state(db.prepare("SELECT state, count(*) FROM jobs GROUP BY state")),
      count_queued_for(db.prepare("SELECT count(*) FROM jobs WHERE state = 'queued' AND client = ?1")),
      select_segment(db.prepare("SELECT " VNCGATE_SEGMENT_COLUMNS " FROM segments WHERE job_id = ? AND idx = ?")),
      select_segments(db.prepare("SELECT " VNCGATE_SEGMENT_COLUMNS " FROM segments WHERE job_id = ? ORDER BY idx")),
      save_segment(db.prepare(
          "INSERT INTO segments (" VNCGATE_SEGMENT_COLUMNS
          ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (job_id, idx) DO UPDATE SET "
          "state = excluded.state, local_path = excluded.local_path, object_key = excluded.object_key, "
          "bytes = excluded.bytes, duration_ms = excluded.duration_ms, frames = excluded.frames, "
          "sha256 = excluded.sha256, start_unix_ms = excluded.start_unix_ms, end_unix_ms = excluded.end_unix_ms, "
          "upload_attempts = excluded.upload_attempts, error = excluded.error, "
          "updated_unix_ms = excluded.updated_unix_ms")),
      delete_transcript(db.prepare("DELETE FROM transcript_lines WHERE job_id = ? AND segment = ?")),
      insert_transcript_line(
          db.prepare("INSERT INTO transcript_lines (job_id, segment, t_ms, at_unix_ms, line) VALUES (?, ?, ?, ?, ?)")),
      search(
          db.prepare("SELECT l.id, l.job_id, j.server, l.segment, l.t_ms, l.at_unix_ms, l.line FROM transcript_lines l "
                     "JOIN jobs j ON j.id = l.job_id "
                     "WHERE l.id IN (SELECT rowid FROM transcript_words WHERE transcript_words MATCH ?1) "
                     "AND (?2 IS NULL OR j.server = ?2) AND (?3 IS NULL OR l.at_unix_ms >= ?3) "
                     "AND (?4 IS NULL OR l.at_unix_ms < ?4) "
                     "AND (?5 IS NULL OR l.at_unix_ms < ?5 OR (l.at_unix_ms = ?5 AND l.id < ?6)) "
                     "ORDER BY l.at_unix_ms DESC, l.id DESC LIMIT ?7")) {}

#undef VNCGATE_JOB_COLUMNS
#undef VNCGATE_SEGMENT_COLUMNS
#undef VNCGATE_ACTIVE

std::int64_t SqliteRows::now_unix_ms() {
  if (!now_) {
    now_ = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
               .count();
  }
  return *now_;
}

std::optional<Job> SqliteRows::job(const std::string& job_id) {
  std::optional<Job> job;
  {
    auto query = statements_.select_job.start();
    query.bind(1, job_id);
    if (!query.step()) return std::nullopt;
    job = job_from_row(query, db_.path());
  }
  load_transitions(*job);
  return job;
}

void SqliteRows::load_transitions(Job& job) {
  auto query = statements_.select_transitions.start();
  query.bind(1, job.id);
  while (query.step()) {
    auto state = parse_job_state(query.text_at(0));
    if (!state) throw StorageError("job database " + db_.path() + ": job " + job.id + " has a damaged history");
    job.transitions.push_back({*state, query.int_at(1), query.text_at(2)});
  }
}

void SqliteRows::insert_job(const Job& job) {
  statements_.insert_job.start()
      .bind(1, job.id)
      .bind(2, job.bucket_id)
      .bind(3, job.server)
      .bind(4, job.target)
      .bind(5, job.provider)
      .bind(6, job.duration_s)
      .bind(7, job.count)
      .bind(8, job.encoder_options.dump())
      .bind(9, job.created_unix_ms)
      .bind(10, job.client)
      .run();
}

void SqliteRows::update_job(const Job& job) {
  statements_.update_job.start()
      .bind(1, job.id)
      .bind(2, to_string(job.state))
      .bind(3, job.failure_reason)
      .bind(4, job.reconnects)
      .bind(5, job.cancel_requested ? 1 : 0)
      .bind(6, job.owner)
      .bind(7, job.fence_token)
      .bind(8, job.lease_expires_unix_ms)
      .bind(9, job.updated_unix_ms)
      .run();
}

void SqliteRows::insert_transition(const std::string& job_id, int seq, const Transition& transition) {
  statements_.insert_transition.start()
      .bind(1, job_id)
      .bind(2, seq)
      .bind(3, to_string(transition.state))
      .bind(4, transition.at_unix_ms)
      .bind(5, transition.reason)
      .run();
}

std::vector<std::pair<std::int64_t, Job>> SqliteRows::list_jobs(const std::optional<JobState>& state,
                                                                const std::optional<std::string>& server,
                                                                std::optional<std::int64_t> before, int limit) {
  std::vector<std::pair<std::int64_t, Job>> found;
  {
    auto query = statements_.list_jobs.start();
    if (state) query.bind(1, to_string(*state));
    if (server) query.bind(2, *server);
    if (before) query.bind(3, *before);
    query.bind(4, limit);
    while (query.step()) found.emplace_back(query.int_at(17), job_from_row(query, db_.path()));
  }
  for (auto& [seq, job] : found) load_transitions(job);
  return found;
}

std::map<JobState, std::int64_t> SqliteRows::count_by_state() {
  std::map<JobState, std::int64_t> counts;
  auto query = statements_.count_by_state.start();
  while (query.step()) {
    if (auto state = parse_job_state(query.text_at(0))) counts[*state] = query.int_at(1);
  }
  return counts;
}

std::int64_t SqliteRows::count_queued_for(const std::string& client) {
  auto query = statements_.count_queued_for.start();
  query.bind(1, client);
  query.step();
  return query.int_at(0);
}

std::optional<std::string> SqliteRows::pick_expired(const std::string& worker_id, std::int64_t now) {
  auto query = statements_.pick_expired.start();
  query.bind(1, worker_id).bind(2, now);
  return first_id(query);
}

std::optional<std::string> SqliteRows::pick_queued() {
  auto query = statements_.pick_queued.start();
  return first_id(query);
}

std::vector<std::string> SqliteRows::active_jobs_of(const std::string& worker_id) {
  std::vector<std::string> ids;
  auto query = statements_.active_of.start();
  query.bind(1, worker_id);
  while (query.step()) ids.push_back(query.text_at(0));
  return ids;
}

std::optional<Segment> SqliteRows::segment(const std::string& job_id, int index) {
  auto query = statements_.select_segment.start();
  query.bind(1, job_id).bind(2, index);
  if (!query.step()) return std::nullopt;
  return segment_from_row(query, db_.path());
}

std::vector<Segment> SqliteRows::segments(const std::string& job_id) {
  std::vector<Segment> result;
  auto query = statements_.select_segments.start();
  query.bind(1, job_id);
  while (query.step()) result.push_back(segment_from_row(query, db_.path()));
  return result;
}

void SqliteRows::save_segment(const Segment& s) {
  statements_.save_segment.start()
      .bind(1, s.job_id)
      .bind(2, s.index)
      .bind(3, to_string(s.state))
      .bind(4, s.local_path)
      .bind(5, s.object_key)
      .bind(6, s.bytes)
      .bind(7, s.duration_ms)
      .bind(8, s.frames)
      .bind(9, s.sha256)
      .bind(10, s.start_unix_ms)
      .bind(11, s.end_unix_ms)
      .bind(12, s.upload_attempts)
      .bind(13, s.error)
      .bind(14, s.updated_unix_ms)
      .run();
}

void SqliteRows::replace_transcript(const std::string& job_id, int index, std::int64_t start_unix_ms,
                                    const std::vector<IndexedLine>& lines) {
  statements_.delete_transcript.start().bind(1, job_id).bind(2, index).run();
  for (const auto& line : lines)
    statements_.insert_transcript_line.start()
        .bind(1, job_id)
        .bind(2, index)
        .bind(3, line.t_ms)
        .bind(4, start_unix_ms + line.t_ms)
        .bind(5, line.text)
        .run();
}

std::vector<std::pair<std::int64_t, SearchHit>> SqliteRows::search(
    const std::vector<std::string>& words, const SearchQuery& q,
    const std::optional<std::pair<std::int64_t, std::int64_t>>& before, int limit) {
  // Each word a quoted FTS5 string (no operators from the user), all of them required.
  std::string match;
  for (const auto& word : words) {
    if (!match.empty()) match += ' ';
    match += '"';
    for (char c : word) match += c == '"' ? std::string("\"\"") : std::string(1, c);
    match += '"';
  }
  auto query = statements_.search.start();
  query.bind(1, match);
  if (q.server) query.bind(2, *q.server);
  if (q.from_unix_ms) query.bind(3, *q.from_unix_ms);
  if (q.to_unix_ms) query.bind(4, *q.to_unix_ms);
  if (before) query.bind(5, before->first).bind(6, before->second);
  query.bind(7, limit);
  std::vector<std::pair<std::int64_t, SearchHit>> hits;
  while (query.step()) {
    SearchHit hit;
    hit.job_id = query.text_at(1);
    hit.server = query.text_at(2);
    hit.segment = static_cast<int>(query.int_at(3));
    hit.t_ms = query.int_at(4);
    hit.at_unix_ms = query.int_at(5);
    hit.line = query.text_at(6);
    hits.emplace_back(query.int_at(0), std::move(hit));
  }
  return hits;
}

}  // namespace vncgate::jobs::sqlite
