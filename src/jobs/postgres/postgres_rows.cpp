// SPDX-License-Identifier: Apache-2.0
#include "jobs/postgres/postgres_rows.hpp"

namespace vncgate::jobs::postgres {
namespace {

#define VNCGATE_JOB_COLUMNS                                                                                          \
  "id, bucket_id, server, target, provider, duration_s, count, encoder_options::text, state, failure_reason, "       \
  "reconnects, cancel_requested, created_unix_ms, updated_unix_ms, owner, fence_token, lease_expires_unix_ms, seq, " \
  "client"
#define VNCGATE_SEGMENT_COLUMNS                                                                     \
  "job_id, idx, state, local_path, object_key, bytes, duration_ms, frames, sha256, start_unix_ms, " \
  "end_unix_ms, upload_attempts, error, updated_unix_ms"
#define VNCGATE_ACTIVE "('connecting', 'recording', 'uploading')"

constexpr int kSeqColumn = 17;

Job job_from_row(const Result& r, int row, const std::string& label) {
  Job job;
  job.id = r.text(row, 0);
  job.bucket_id = r.text(row, 1);
  job.server = r.text(row, 2);
  job.target = r.text(row, 3);
  job.provider = r.text(row, 4);
  job.duration_s = r.integer(row, 5);
  job.count = static_cast<int>(r.integer(row, 6));
  job.encoder_options = nlohmann::json::parse(r.text(row, 7), nullptr, /*allow_exceptions=*/false);
  auto state = parse_job_state(r.text(row, 8));
  if (!state || job.encoder_options.is_discarded()) {
    throw StorageError("job database " + label + ": job " + job.id + " has a damaged row");
  }
  job.state = *state;
  job.failure_reason = r.text(row, 9);
  job.reconnects = static_cast<int>(r.integer(row, 10));
  job.cancel_requested = r.boolean(row, 11);
  job.created_unix_ms = r.integer(row, 12);
  job.updated_unix_ms = r.integer(row, 13);
  job.owner = r.text(row, 14);
  job.fence_token = r.integer(row, 15);
  job.lease_expires_unix_ms = r.integer(row, 16);
  job.client = r.text(row, kSeqColumn + 1);
  return job;
}

Segment segment_from_row(const Result& r, int row, const std::string& label) {
  Segment segment;
  segment.job_id = r.text(row, 0);
  segment.index = static_cast<int>(r.integer(row, 1));
  auto state = parse_segment_state(r.text(row, 2));
  if (!state) {
    throw StorageError("job database " + label + ": segment " + std::to_string(segment.index) + " of job " +
                       segment.job_id + " has a damaged row");
  }
  segment.state = *state;
  segment.local_path = r.text(row, 3);
  segment.object_key = r.text(row, 4);
  segment.bytes = r.integer(row, 5);
  segment.duration_ms = r.integer(row, 6);
  segment.frames = r.integer(row, 7);
  segment.sha256 = r.text(row, 8);
  segment.start_unix_ms = r.integer(row, 9);
  segment.end_unix_ms = r.integer(row, 10);
  segment.upload_attempts = static_cast<int>(r.integer(row, 11));
  segment.error = r.text(row, 12);
  segment.updated_unix_ms = r.integer(row, 13);
  return segment;
}

Transition transition_from_row(const Result& r, int row, int first_column, const std::string& job_id,
                               const std::string& label) {
  auto state = parse_job_state(r.text(row, first_column));
  if (!state) throw StorageError("job database " + label + ": job " + job_id + " has a damaged history");
  return {*state, r.integer(row, first_column + 1), r.text(row, first_column + 2)};
}

std::optional<std::string> first_id(const Result& r) {
  if (r.rows() == 0) return std::nullopt;
  return r.text(0, 0);
}

// A text[] literal: {"a","b"} with quotes and backslashes escaped.
template <class Items, class Text>
std::string text_array(const Items& items, Text text_of) {
  std::string out = "{";
  for (const auto& item : items) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (char c : text_of(item)) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

}  // namespace

std::optional<Job> PostgresRows::job(const std::string& job_id) {
  std::optional<Job> job;
  {
    auto r = write_ ? connection_.run("job_for_update",
                                      "SELECT " VNCGATE_JOB_COLUMNS " FROM jobs WHERE id = $1 FOR UPDATE", {job_id})
                    : connection_.run("job", "SELECT " VNCGATE_JOB_COLUMNS " FROM jobs WHERE id = $1", {job_id});
    if (r.rows() == 0) return std::nullopt;
    job = job_from_row(r, 0, connection_.label());
  }
  auto r = connection_.run(
      "transitions", "SELECT state, at_unix_ms, reason FROM job_transitions WHERE job_id = $1 ORDER BY seq", {job_id});
  for (int i = 0; i < r.rows(); ++i)
    job->transitions.push_back(transition_from_row(r, i, 0, job_id, connection_.label()));
  return job;
}

void PostgresRows::insert_job(const Job& job) {
  connection_.run("insert_job",
                  "INSERT INTO jobs (id, bucket_id, server, target, provider, duration_s, count, encoder_options, "
                  "state, created_unix_ms, updated_unix_ms, client) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, "
                  "'queued', $9, $9, $10)",
                  {job.id, job.bucket_id, job.server, job.target, job.provider, job.duration_s, job.count,
                   job.encoder_options.dump(), job.created_unix_ms, job.client});
}

void PostgresRows::update_job(const Job& job) {
  connection_.run("update_job",
                  "UPDATE jobs SET state = $2, failure_reason = $3, reconnects = $4, cancel_requested = $5, "
                  "owner = $6, fence_token = $7, lease_expires_unix_ms = $8, updated_unix_ms = $9 WHERE id = $1",
                  {job.id, to_string(job.state), job.failure_reason, job.reconnects, job.cancel_requested, job.owner,
                   job.fence_token, job.lease_expires_unix_ms, job.updated_unix_ms});
}

void PostgresRows::insert_transition(const std::string& job_id, int seq, const Transition& transition) {
  connection_.run("insert_transition",
                  "INSERT INTO job_transitions (job_id, seq, state, at_unix_ms, reason) VALUES ($1, $2, $3, $4, $5)",
                  {job_id, seq, to_string(transition.state), transition.at_unix_ms, transition.reason});
}

std::vector<std::pair<std::int64_t, Job>> PostgresRows::list_jobs(const std::optional<JobState>& state,
                                                                  const std::optional<std::string>& server,
                                                                  std::optional<std::int64_t> before, int limit) {
  std::vector<std::pair<std::int64_t, Job>> found;
  {
    auto r = connection_.run(
        "list_jobs",
        "SELECT " VNCGATE_JOB_COLUMNS
        " FROM jobs WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR server = $2) "
        "AND ($3::bigint IS NULL OR seq < $3) ORDER BY seq DESC LIMIT $4",
        {state ? Param(to_string(*state)) : Param(std::nullopt), server ? Param(*server) : Param(std::nullopt),
         before ? Param(*before) : Param(std::nullopt), limit});
    for (int i = 0; i < r.rows(); ++i)
      found.emplace_back(r.integer(i, kSeqColumn), job_from_row(r, i, connection_.label()));
  }
  if (found.empty()) return found;
  // Every listed job's history in one query, not one per job.
  std::map<std::string, Job*> by_id;
  for (auto& [seq, job] : found) by_id[job.id] = &job;
  auto r = connection_.run(
      "list_transitions",
      "SELECT job_id, state, at_unix_ms, reason FROM job_transitions WHERE job_id = ANY($1::text[]) "
      "ORDER BY job_id, seq",
      {text_array(found, [](const auto& found_job) -> const std::string& { return found_job.second.id; })});
  for (int i = 0; i < r.rows(); ++i) {
    const auto job_id = r.text(i, 0);
    if (auto it = by_id.find(job_id); it != by_id.end())
      it->second->transitions.push_back(transition_from_row(r, i, 1, job_id, connection_.label()));
  }
  return found;
}

std::int64_t PostgresRows::count_queued_for(const std::string& client) {
  return connection_
      .run("count_queued_for", "SELECT count(*) FROM jobs WHERE state = 'queued' AND client = $1", {client})
      .integer(0, 0);
}

std::map<JobState, std::int64_t> PostgresRows::count_by_state() {
  std::map<JobState, std::int64_t> counts;
  auto r = connection_.run("count_by_state", "SELECT state, count(*) FROM jobs GROUP BY state");
  for (int i = 0; i < r.rows(); ++i) {
    if (auto state = parse_job_state(r.text(i, 0))) counts[*state] = r.integer(i, 1);
  }
  return counts;
}

std::optional<std::string> PostgresRows::pick_expired(const std::string& worker_id, std::int64_t now) {
  return first_id(connection_.run("pick_expired",
                                  "SELECT id FROM jobs WHERE state IN " VNCGATE_ACTIVE
                                  " AND owner <> $1 AND lease_expires_unix_ms < $2 ORDER BY seq LIMIT 1 "
                                  "FOR UPDATE SKIP LOCKED",
                                  {worker_id, now}));
}

std::optional<std::string> PostgresRows::pick_queued() {
  return first_id(connection_.run("pick_queued",
                                  "SELECT id FROM jobs WHERE state = 'queued' AND NOT cancel_requested ORDER BY seq "
                                  "LIMIT 1 FOR UPDATE SKIP LOCKED"));
}

std::vector<std::string> PostgresRows::active_jobs_of(const std::string& worker_id) {
  auto r = connection_.run(
      "active_of", "SELECT id FROM jobs WHERE owner = $1 AND state IN " VNCGATE_ACTIVE " ORDER BY seq FOR UPDATE",
      {worker_id});
  std::vector<std::string> ids;
  for (int i = 0; i < r.rows(); ++i) ids.push_back(r.text(i, 0));
  return ids;
}

std::optional<Segment> PostgresRows::segment(const std::string& job_id, int index) {
  auto r = connection_.run("segment", "SELECT " VNCGATE_SEGMENT_COLUMNS " FROM segments WHERE job_id = $1 AND idx = $2",
                           {job_id, index});
  if (r.rows() == 0) return std::nullopt;
  return segment_from_row(r, 0, connection_.label());
}

std::vector<Segment> PostgresRows::segments(const std::string& job_id) {
  auto r = connection_.run("segments",
                           "SELECT " VNCGATE_SEGMENT_COLUMNS " FROM segments WHERE job_id = $1 ORDER BY idx", {job_id});
  std::vector<Segment> result;
  for (int i = 0; i < r.rows(); ++i) result.push_back(segment_from_row(r, i, connection_.label()));
  return result;
}

void PostgresRows::save_segment(const Segment& s) {
  connection_.run("save_segment",
                  "INSERT INTO segments (" VNCGATE_SEGMENT_COLUMNS
                  ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) "
                  "ON CONFLICT (job_id, idx) DO UPDATE SET state = EXCLUDED.state, local_path = EXCLUDED.local_path, "
                  "object_key = EXCLUDED.object_key, bytes = EXCLUDED.bytes, duration_ms = EXCLUDED.duration_ms, "
                  "frames = EXCLUDED.frames, sha256 = EXCLUDED.sha256, start_unix_ms = EXCLUDED.start_unix_ms, "
                  "end_unix_ms = EXCLUDED.end_unix_ms, upload_attempts = EXCLUDED.upload_attempts, "
                  "error = EXCLUDED.error, updated_unix_ms = EXCLUDED.updated_unix_ms",
                  {s.job_id, s.index, to_string(s.state), s.local_path, s.object_key, s.bytes, s.duration_ms, s.frames,
                   s.sha256, s.start_unix_ms, s.end_unix_ms, s.upload_attempts, s.error, s.updated_unix_ms});
}

void PostgresRows::announce_work() {
  if (announced_) return;
  connection_.run("notify", "SELECT pg_notify($1, '')", {kWorkChannel});
  announced_ = true;
}

#undef VNCGATE_JOB_COLUMNS
#undef VNCGATE_SEGMENT_COLUMNS
#undef VNCGATE_ACTIVE

void PostgresRows::replace_transcript(const std::string& job_id, int index, std::int64_t start_unix_ms,
                                      const std::vector<IndexedLine>& lines) {
  connection_.run("delete_transcript", "DELETE FROM transcript_lines WHERE job_id = $1 AND segment = $2",
                  {job_id, index});
  if (lines.empty()) return;
  // One statement for the whole segment: the times and texts as two arrays, unnested side by side.
  std::string times = "{";
  for (const auto& line : lines) {
    if (times.size() > 1) times += ',';
    times += std::to_string(line.t_ms);
  }
  times += '}';
  connection_.run("insert_transcript",
                  "INSERT INTO transcript_lines (job_id, segment, t_ms, at_unix_ms, line) "
                  "SELECT $1::text, $2::integer, u.t, $3::bigint + u.t, u.line "
                  "FROM unnest($4::bigint[], $5::text[]) AS u (t, line)",
                  {job_id, index, start_unix_ms, times,
                   text_array(lines, [](const IndexedLine& line) -> const std::string& { return line.text; })});
}

std::vector<std::pair<std::int64_t, SearchHit>> PostgresRows::search(
    const std::vector<std::string>& words, const SearchQuery& q,
    const std::optional<std::pair<std::int64_t, std::int64_t>>& before, int limit) {
  // Each word through plainto_tsquery (no operators from the user), all of them required.
  std::string joined;
  for (const auto& word : words) joined += (joined.empty() ? "" : " ") + word;
  auto r = connection_.run(
      "search",
      "SELECT l.id, l.job_id, j.server, l.segment, l.t_ms, l.at_unix_ms, l.line FROM transcript_lines l "
      "JOIN jobs j ON j.id = l.job_id WHERE l.words @@ plainto_tsquery('simple', $1) "
      "AND ($2::text IS NULL OR j.server = $2) AND ($3::bigint IS NULL OR l.at_unix_ms >= $3) "
      "AND ($4::bigint IS NULL OR l.at_unix_ms < $4) "
      "AND ($5::bigint IS NULL OR (l.at_unix_ms, l.id) < ($5, $6::bigint)) "
      "ORDER BY l.at_unix_ms DESC, l.id DESC LIMIT $7",
      {joined, q.server ? Param(*q.server) : Param(std::nullopt),
       q.from_unix_ms ? Param(*q.from_unix_ms) : Param(std::nullopt),
       q.to_unix_ms ? Param(*q.to_unix_ms) : Param(std::nullopt), before ? Param(before->first) : Param(std::nullopt),
       before ? Param(before->second) : Param(std::nullopt), limit});
  std::vector<std::pair<std::int64_t, SearchHit>> hits;
  for (int i = 0; i < r.rows(); ++i) {
    SearchHit hit;
    hit.job_id = r.text(i, 1);
    hit.server = r.text(i, 2);
    hit.segment = static_cast<int>(r.integer(i, 3));
    hit.t_ms = r.integer(i, 4);
    hit.at_unix_ms = r.integer(i, 5);
    hit.line = r.text(i, 6);
    hits.emplace_back(r.integer(i, 0), std::move(hit));
  }
  return hits;
}

}  // namespace vncgate::jobs::postgres
