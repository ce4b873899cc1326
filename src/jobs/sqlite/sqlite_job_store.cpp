// SPDX-License-Identifier: Apache-2.0
#include "jobs/sqlite/sqlite_job_store.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>

#include "jobs/sqlite/database.hpp"
#include "jobs/sqlite/migrations.hpp"

namespace vncgate::jobs {

using sqlite::Query;
using sqlite::Statement;
using sqlite::Transaction;

namespace {

constexpr const char* kInterruptedError = "interrupted by restart while recording";

std::int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

#define VNCGATE_JOB_COLUMNS                                                                              \
  "id, bucket_id, server, target, provider, duration_s, count, encoder_options, state, failure_reason, " \
  "reconnects, cancel_requested, created_unix_ms, updated_unix_ms, seq"
#define VNCGATE_SEGMENT_COLUMNS                                                                     \
  "job_id, idx, state, local_path, object_key, bytes, duration_ms, frames, sha256, start_unix_ms, " \
  "end_unix_ms, upload_attempts, error, updated_unix_ms"

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

std::optional<std::int64_t> parse_cursor(const std::string& cursor) {
  std::int64_t seq = 0;
  auto [end, ec] = std::from_chars(cursor.data(), cursor.data() + cursor.size(), seq);
  if (ec != std::errc() || end != cursor.data() + cursor.size() || seq <= 0) return std::nullopt;
  return seq;
}

[[noreturn]] void throw_no_segment(const std::string& job_id, int index) {
  throw UsageError("job " + job_id + " has no segment " + std::to_string(index));
}

}  // namespace

// Every statement is prepared once per connection (SQLITE_PREPARE_PERSISTENT).
struct SqliteJobStore::Statements {
  explicit Statements(sqlite::Database& db)
      : insert_job(db.prepare(
            "INSERT INTO jobs (id, bucket_id, server, target, provider, duration_s, count, encoder_options, state, "
            "created_unix_ms, updated_unix_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?10, ?10)")),
        insert_transition(
            db.prepare("INSERT INTO job_transitions (job_id, seq, state, at_unix_ms, reason) VALUES (?, ?, ?, ?, ?)")),
        select_job(db.prepare("SELECT " VNCGATE_JOB_COLUMNS " FROM jobs WHERE id = ?")),
        select_transitions(
            db.prepare("SELECT state, at_unix_ms, reason FROM job_transitions WHERE job_id = ? ORDER BY seq")),
        list_jobs(db.prepare("SELECT " VNCGATE_JOB_COLUMNS
                             " FROM jobs WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR server = ?2) "
                             "AND (?3 IS NULL OR seq < ?3) ORDER BY seq DESC LIMIT ?4")),
        update_state(db.prepare("UPDATE jobs SET state = ?2, failure_reason = ?3, updated_unix_ms = ?4 WHERE id = ?1")),
        oldest_queued(
            db.prepare("SELECT id FROM jobs WHERE state = 'queued' AND cancel_requested = 0 ORDER BY seq LIMIT 1")),
        set_cancel(db.prepare("UPDATE jobs SET cancel_requested = 1, updated_unix_ms = ?2 WHERE id = ?1")),
        add_reconnect(db.prepare("UPDATE jobs SET reconnects = reconnects + 1, updated_unix_ms = ?2 WHERE id = ?1")),
        count_by_state(db.prepare("SELECT state, count(*) FROM jobs GROUP BY state")),
        active_jobs(
            db.prepare("SELECT id FROM jobs WHERE state IN ('connecting', 'recording', 'uploading') ORDER BY seq")),
        select_segment(db.prepare("SELECT " VNCGATE_SEGMENT_COLUMNS " FROM segments WHERE job_id = ? AND idx = ?")),
        select_segments(db.prepare("SELECT " VNCGATE_SEGMENT_COLUMNS " FROM segments WHERE job_id = ? ORDER BY idx")),
        upsert_segment(db.prepare(
            "INSERT INTO segments (job_id, idx, updated_unix_ms, state, local_path, start_unix_ms) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (job_id, idx) DO UPDATE SET state = ?4, local_path = ?5, "
            "start_unix_ms = ?6, updated_unix_ms = ?3")),
        finish_segment(
            db.prepare("UPDATE segments SET state = 'finished', updated_unix_ms = ?3, local_path = ?4, bytes = ?5, "
                       "duration_ms = ?6, frames = ?7, sha256 = ?8, start_unix_ms = ?9, end_unix_ms = ?10, error = '' "
                       "WHERE job_id = ?1 AND idx = ?2")),
        fail_segment(db.prepare(
            "UPDATE segments SET state = 'failed', updated_unix_ms = ?3, error = ?4 WHERE job_id = ?1 AND idx = ?2")),
        mark_uploaded(db.prepare("UPDATE segments SET state = 'uploaded', updated_unix_ms = ?3, object_key = ?4, "
                                 "upload_attempts = upload_attempts + 1, error = '' WHERE job_id = ?1 AND idx = ?2")),
        upload_failed(
            db.prepare("UPDATE segments SET updated_unix_ms = ?3, error = ?4, upload_attempts = upload_attempts + 1 "
                       "WHERE job_id = ?1 AND idx = ?2")),
        interrupt_recording(db.prepare("UPDATE segments SET state = 'failed', error = ?2, updated_unix_ms = ?3 "
                                       "WHERE job_id = ?1 AND state = 'recording'")) {}

  Statement insert_job, insert_transition, select_job, select_transitions, list_jobs, update_state, oldest_queued,
      set_cancel, add_reconnect, count_by_state, active_jobs, select_segment, select_segments, upsert_segment,
      finish_segment, fail_segment, mark_uploaded, upload_failed, interrupt_recording;
};

#undef VNCGATE_JOB_COLUMNS
#undef VNCGATE_SEGMENT_COLUMNS

SqliteJobStore::SqliteJobStore(const SqliteOptions& options)
    : db_(std::make_unique<sqlite::Database>(options.path, options.busy_timeout_ms)) {
  sqlite::migrate(*db_);
  schema_version_ = sqlite::latest_schema_version();
  statements_ = std::make_unique<Statements>(*db_);
}

// Statements are finalised before the connection closes.
SqliteJobStore::~SqliteJobStore() { statements_.reset(); }

Job SqliteJobStore::create(const NewJob& request) {
  if (request.duration_s <= 0 || request.count <= 0) {
    throw UsageError("a job needs a positive duration and count (got " + std::to_string(request.duration_s) + " s, " +
                     std::to_string(request.count) + " segments)");
  }
  if (!request.encoder_options.is_object()) throw UsageError("encoder options must be a JSON object");
  std::lock_guard lock(mutex_);
  Transaction transaction(*db_);
  const auto now = now_unix_ms();
  const auto id = new_job_id();
  statements_->insert_job.start()
      .bind(1, id)
      .bind(2, request.bucket_id)
      .bind(3, request.server)
      .bind(4, mask_target_secrets(request.target))
      .bind(5, request.provider)
      .bind(6, request.duration_s)
      .bind(7, request.count)
      .bind(8, request.encoder_options.dump())
      .bind(10, now)
      .run();
  statements_->insert_transition.start().bind(1, id).bind(2, 0).bind(3, "queued").bind(4, now).bind(5, "").run();
  auto job = load_job(id);
  transaction.commit();
  return *job;
}

std::optional<Job> SqliteJobStore::get(const std::string& job_id) {
  std::lock_guard lock(mutex_);
  return load_job(job_id);
}

JobPage SqliteJobStore::list(const JobQuery& request) {
  const int limit = std::clamp(request.limit, 1, 1000);
  std::optional<std::int64_t> before;
  if (request.cursor) {
    before = parse_cursor(*request.cursor);
    if (!before) throw UsageError("invalid page cursor \"" + *request.cursor + "\"");
  }
  std::lock_guard lock(mutex_);
  // One read transaction: the page and its transitions come from the same snapshot.
  db_->exec("BEGIN");
  JobPage page;
  std::vector<std::int64_t> seqs;
  try {
    {
      auto query = statements_->list_jobs.start();
      if (request.state) query.bind(1, to_string(*request.state));
      if (request.server) query.bind(2, *request.server);
      if (before) query.bind(3, *before);
      query.bind(4, limit + 1);  // one more than asked tells whether another page follows
      while (query.step()) {
        page.jobs.push_back(job_from_row(query, db_->path()));
        seqs.push_back(query.int_at(14));
      }
    }
    if (static_cast<int>(page.jobs.size()) > limit) {
      page.jobs.pop_back();
      page.next_cursor = std::to_string(seqs[static_cast<std::size_t>(limit) - 1]);
    }
    for (auto& job : page.jobs) job.transitions = load_job(job.id)->transitions;
  } catch (...) {
    db_->exec("ROLLBACK");
    throw;
  }
  db_->exec("COMMIT");
  return page;
}

std::optional<Job> SqliteJobStore::transition(const std::string& job_id, JobState to, const std::string& reason) {
  std::lock_guard lock(mutex_);
  Transaction transaction(*db_);
  auto job = load_job(job_id);
  if (!job) return std::nullopt;
  apply_transition(*job, to, reason);
  transaction.commit();
  return job;
}

std::optional<Job> SqliteJobStore::claim_next_queued() {
  std::lock_guard lock(mutex_);
  Transaction transaction(*db_);
  std::string id;
  {
    auto query = statements_->oldest_queued.start();
    if (!query.step()) return std::nullopt;
    id = query.text_at(0);
  }
  auto job = load_job(id);
  apply_transition(*job, JobState::connecting, {});
  transaction.commit();
  return job;
}

std::optional<Job> SqliteJobStore::request_cancel(const std::string& job_id, const std::string& reason) {
  std::lock_guard lock(mutex_);
  Transaction transaction(*db_);
  auto job = load_job(job_id);
  if (!job || is_terminal(job->state)) return job;
  const auto now = now_unix_ms();
  statements_->set_cancel.start().bind(1, job_id).bind(2, now).run();
  job->cancel_requested = true;
  job->updated_unix_ms = now;
  if (job->state == JobState::queued) {
    apply_transition(*job, JobState::cancelled, reason.empty() ? "cancelled before it started" : reason);
  }
  transaction.commit();
  return job;
}

bool SqliteJobStore::add_reconnect(const std::string& job_id) {
  std::lock_guard lock(mutex_);
  statements_->add_reconnect.start().bind(1, job_id).bind(2, now_unix_ms()).run();
  return db_->changes() > 0;
}

Segment SqliteJobStore::upsert_segment(const Segment& segment) {
  if (segment.index < 1) throw UsageError("segment indexes start at 1 (got " + std::to_string(segment.index) + ")");
  if (segment.state != SegmentState::pending && segment.state != SegmentState::recording) {
    throw UsageError(
        "upsert_segment takes pending or recording segments; use finish_segment, fail_segment or "
        "mark_uploaded for the others");
  }
  std::lock_guard lock(mutex_);
  Transaction transaction(*db_);
  if (!load_job(segment.job_id))
    throw UsageError("no job " + segment.job_id + " for segment " + std::to_string(segment.index));
  if (auto stored = load_segment(segment.job_id, segment.index);
      stored && stored->state != segment.state && !is_allowed_transition(stored->state, segment.state)) {
    throw InvalidTransition("segment " + std::to_string(segment.index) + " of job " + segment.job_id,
                            to_string(stored->state), to_string(segment.state));
  }
  statements_->upsert_segment.start()
      .bind(1, segment.job_id)
      .bind(2, segment.index)
      .bind(3, now_unix_ms())
      .bind(4, to_string(segment.state))
      .bind(5, segment.local_path)
      .bind(6, segment.start_unix_ms)
      .run();
  auto stored = load_segment(segment.job_id, segment.index);
  transaction.commit();
  return *stored;
}

Segment SqliteJobStore::finish_segment(const std::string& job_id, int index, const FinishedSegment& result) {
  return change_segment(job_id, index, SegmentState::finished, statements_->finish_segment, [&](Query& query) {
    query.bind(4, result.local_path)
        .bind(5, result.bytes)
        .bind(6, result.duration_ms)
        .bind(7, result.frames)
        .bind(8, result.sha256)
        .bind(9, result.start_unix_ms)
        .bind(10, result.end_unix_ms);
  });
}

Segment SqliteJobStore::fail_segment(const std::string& job_id, int index, const std::string& error) {
  return change_segment(job_id, index, SegmentState::failed, statements_->fail_segment,
                        [&](Query& query) { query.bind(4, error); });
}

Segment SqliteJobStore::mark_uploaded(const std::string& job_id, int index, const std::string& object_key) {
  return change_segment(job_id, index, SegmentState::uploaded, statements_->mark_uploaded,
                        [&](Query& query) { query.bind(4, object_key); });
}

Segment SqliteJobStore::record_upload_failure(const std::string& job_id, int index, const std::string& error) {
  return change_segment(job_id, index, SegmentState::finished, statements_->upload_failed,
                        [&](Query& query) { query.bind(4, error); });
}

std::vector<Segment> SqliteJobStore::segments(const std::string& job_id) {
  std::lock_guard lock(mutex_);
  return load_segments(job_id);
}

std::optional<Segment> SqliteJobStore::segment(const std::string& job_id, int index) {
  std::lock_guard lock(mutex_);
  return load_segment(job_id, index);
}

std::map<JobState, std::int64_t> SqliteJobStore::count_by_state() {
  std::map<JobState, std::int64_t> counts;
  for (auto state : kAllJobStates) counts[state] = 0;
  std::lock_guard lock(mutex_);
  auto query = statements_->count_by_state.start();
  while (query.step()) {
    if (auto state = parse_job_state(query.text_at(0))) counts[*state] = query.int_at(1);
  }
  return counts;
}

std::vector<RecoveredJob> SqliteJobStore::recover_after_restart() {
  std::lock_guard lock(mutex_);
  Transaction transaction(*db_);
  std::vector<std::string> ids;
  {
    auto query = statements_->active_jobs.start();
    while (query.step()) ids.push_back(query.text_at(0));
  }
  std::vector<RecoveredJob> recovered;
  const auto now = now_unix_ms();
  for (const auto& id : ids) {
    // A segment that was recording has a partial file and no sidecar; it can never become "finished".
    statements_->interrupt_recording.start().bind(1, id).bind(2, kInterruptedError).bind(3, now).run();
    RecoveredJob entry;
    entry.job = *load_job(id);
    int saved = 0;
    for (auto& segment : load_segments(id)) {
      if (segment.state != SegmentState::pending) entry.next_index = std::max(entry.next_index, segment.index + 1);
      switch (segment.state) {
        case SegmentState::finished:
          ++saved;
          entry.to_upload.push_back(std::move(segment));
          break;
        case SegmentState::uploaded:
          ++saved;
          entry.uploaded.push_back(std::move(segment));
          break;
        case SegmentState::failed: entry.failed.push_back(std::move(segment)); break;
        default: break;  // pending: nothing was written; a resume may reuse it
      }
    }
    entry.remaining = std::max(0, entry.job.count - saved);
    recovered.push_back(std::move(entry));
  }
  transaction.commit();
  return recovered;
}

std::optional<Job> SqliteJobStore::load_job(const std::string& job_id) {
  std::optional<Job> job;
  {
    auto query = statements_->select_job.start();
    query.bind(1, job_id);
    if (!query.step()) return std::nullopt;
    job = job_from_row(query, db_->path());
  }
  auto query = statements_->select_transitions.start();
  query.bind(1, job_id);
  while (query.step()) {
    auto state = parse_job_state(query.text_at(0));
    if (!state) throw StorageError("job database " + db_->path() + ": job " + job_id + " has a damaged history");
    job->transitions.push_back({*state, query.int_at(1), query.text_at(2)});
  }
  return job;
}

std::optional<Segment> SqliteJobStore::load_segment(const std::string& job_id, int index) {
  auto query = statements_->select_segment.start();
  query.bind(1, job_id).bind(2, index);
  if (!query.step()) return std::nullopt;
  return segment_from_row(query, db_->path());
}

std::vector<Segment> SqliteJobStore::load_segments(const std::string& job_id) {
  std::vector<Segment> result;
  auto query = statements_->select_segments.start();
  query.bind(1, job_id);
  while (query.step()) result.push_back(segment_from_row(query, db_->path()));
  return result;
}

void SqliteJobStore::apply_transition(Job& job, JobState to, const std::string& reason) {
  if (!is_allowed_transition(job.state, to)) {
    throw InvalidTransition("job " + job.id, to_string(job.state), to_string(to));
  }
  const auto now = now_unix_ms();
  if (to == JobState::failed || to == JobState::cancelled) job.failure_reason = reason;
  statements_->update_state.start()
      .bind(1, job.id)
      .bind(2, to_string(to))
      .bind(3, job.failure_reason)
      .bind(4, now)
      .run();
  statements_->insert_transition.start()
      .bind(1, job.id)
      .bind(2, static_cast<std::int64_t>(job.transitions.size()))
      .bind(3, to_string(to))
      .bind(4, now)
      .bind(5, reason)
      .run();
  job.state = to;
  job.updated_unix_ms = now;
  job.transitions.push_back({to, now, reason});
}

Segment SqliteJobStore::change_segment(const std::string& job_id, int index, SegmentState to, Statement& statement,
                                       const std::function<void(Query&)>& bind_rest) {
  std::lock_guard lock(mutex_);
  Transaction transaction(*db_);
  auto stored = load_segment(job_id, index);
  if (!stored) throw_no_segment(job_id, index);
  // Same state means "update in place", which only a finished segment allows (an upload attempt that failed).
  const bool allowed = stored->state == to ? to == SegmentState::finished : is_allowed_transition(stored->state, to);
  if (!allowed) {
    throw InvalidTransition("segment " + std::to_string(index) + " of job " + job_id, to_string(stored->state),
                            to_string(to));
  }
  {
    auto query = statement.start();
    query.bind(1, job_id).bind(2, index).bind(3, now_unix_ms());
    bind_rest(query);
    query.run();
  }
  auto changed = load_segment(job_id, index);
  transaction.commit();
  return *changed;
}

}  // namespace vncgate::jobs
