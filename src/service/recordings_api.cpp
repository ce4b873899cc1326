// SPDX-License-Identifier: Apache-2.0
#include "service/recordings_api.hpp"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <set>

#include "fbs/checkpoints.hpp"
#include "fbs/replay.hpp"
#include "framebuffer/png.hpp"
#include "record/mp4_frame.hpp"
#include "record/sidecar.hpp"
#include "service/job_request.hpp"
#include "service/segment_frames.hpp"
#include "util/log.hpp"

namespace vncgate::service {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

HttpResponse reject(const Rejection& r) { return json_error(r.status, r.code, r.message); }

// The seed's bucket ids are UUIDs; a random (v4) one is also a valid S3 bucket name.
std::string new_bucket_id() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) throw Error(ErrorCategory::io, "no random bytes from OpenSSL");
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += hex[b[i] >> 4];
    out += hex[b[i] & 15];
  }
  return out;
}

// The FBS files of a job that records them: still in the work directory, or in storage.
std::vector<std::string> fbs_files(const RecordingsApi& api, const jobs::Job& job) {
  std::set<std::string> names;
  if (!job_encoding(job, api.settings.recording).fbs) return {};  // the job's own choice, else the default
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(api.runner.work_dir_of(job.id), ec))
    if (is_fbs_file_name(entry.path().filename().string())) names.insert(entry.path().filename().string());
  try {
    const auto where = api.site.locate_job(job.bucket_id);
    for (const auto& object : api.site.storage().list(where.bucket, where.prefix))
      if (const auto name = object.key.substr(where.prefix.size()); is_fbs_file_name(name)) names.insert(name);
  } catch (const Error& e) {
    spdlog::warn("job {}: cannot list its files in storage: {}", job.id, e.what());
  }
  return {names.begin(), names.end()};
}

bool is_job_id(const std::string& id) {
  return id.size() == 32 && id.find_first_not_of("0123456789abcdef") == std::string::npos;
}

std::optional<int> parse_int(const std::string& text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<double> parse_seconds(const std::string& text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !(value >= 0 && value <= 86400)) return std::nullopt;
  return value;
}

json time_or_null(std::int64_t unix_ms) { return unix_ms > 0 ? json(iso8601_ms(unix_ms)) : json(nullptr); }
json text_or_null(const std::string& text) { return text.empty() ? json(nullptr) : json(text); }

// A local file from `offset`, read a piece at a time (the file stays open: the uploader may remove its name).
class FileSource : public BodySource {
 public:
  FileSource(int fd, std::uint64_t offset) : fd_(fd), offset_(offset) {}
  ~FileSource() override { ::close(fd_); }
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;
  std::size_t read(std::span<char> into) override {
    const auto n = ::pread(fd_, into.data(), into.size(), static_cast<off_t>(offset_));
    if (n < 0) throw IoError(std::string("reading a recording: ") + std::strerror(errno));
    offset_ += static_cast<std::uint64_t>(n);
    return static_cast<std::size_t>(n);
  }

 private:
  int fd_;
  std::uint64_t offset_;
};

// An object in storage from `offset`, a ranged GET per piece: memory stays one piece whatever the object's size.
class StorageSource : public BodySource {
 public:
  StorageSource(std::shared_ptr<storage::Storage> storage, std::string bucket, std::string key, std::uint64_t offset)
      : storage_(std::move(storage)), bucket_(std::move(bucket)), key_(std::move(key)), offset_(offset) {}
  std::size_t read(std::span<char> into) override {
    auto data = storage_->read(bucket_, key_, storage::ByteRange{offset_, into.size()});
    if (!data) throw StorageError("the object " + key_ + " disappeared from storage during a download");
    const std::size_t n = std::min(data->size(), into.size());
    std::memcpy(into.data(), data->data(), n);
    offset_ += n;
    return n;
  }

 private:
  std::shared_ptr<storage::Storage> storage_;
  std::string bucket_, key_;
  std::uint64_t offset_;
};

// Serves a file that is either still local (not uploaded yet) or in storage, honouring Range; the body is
// streamed from the file or the object (BodySource), never read whole.
HttpResponse serve_object(const RecordingsApi& api, const jobs::Job& job, const std::string& local_path,
                          const std::string& key, const std::string& content_type, const HttpRequest& request) {
  std::uint64_t size = 0;
  const int fd = local_path.empty() ? -1 : ::open(local_path.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  const auto where = api.site.locate_job(job.bucket_id);
  if (fd >= 0 && ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    size = static_cast<std::uint64_t>(st.st_size);
  } else {
    if (fd >= 0) ::close(fd);
    if (key.empty()) return json_error(404, "not_found", "the file is not available");
    auto info = api.site.storage().stat(where.bucket, where.prefix + key);
    if (!info) return json_error(404, "not_found", "the file is not in storage");
    size = info->size;
  }
  const bool local = fd >= 0 && S_ISREG(st.st_mode);
  auto range = parse_range(request.header("Range").value_or(""), size);
  if (range && range->length == 0) {
    if (local) ::close(fd);
    auto r = json_error(416, "range_not_satisfiable", "the range is outside the file");
    r.headers.emplace_back("Content-Range", "bytes */" + std::to_string(size));
    return r;
  }
  const std::uint64_t offset = range ? range->offset : 0, length = range ? range->length : size;
  HttpResponse r;
  r.status = range ? 206 : 200;
  r.content_type = content_type;
  if (local)
    r.source = std::make_shared<FileSource>(fd, offset);
  else
    r.source = std::make_shared<StorageSource>(api.site.shared_storage(), where.bucket, where.prefix + key, offset);
  r.source_length = length;
  r.headers.emplace_back("Accept-Ranges", "bytes");
  if (range)
    r.headers.emplace_back("Content-Range", "bytes " + std::to_string(offset) + "-" +
                                                std::to_string(offset + length - 1) + "/" + std::to_string(size));
  return r;
}

std::optional<HttpResponse> create_job(const RecordingsApi& api, const HttpRequest& request, jobs::Job& created) {
  auto parsed = parse_job_request(request.body, api.settings);
  if (auto* rejection = std::get_if<Rejection>(&parsed)) return reject(*rejection);
  if (api.storage_ok && !api.storage_ok())
    return json_error(503, "storage_unavailable", "storage is unreachable; try again later");
  auto job = std::get<jobs::NewJob>(std::move(parsed));
  const auto counts = api.store.count_by_state();
  if (auto queued = counts.find(jobs::JobState::queued);
      queued != counts.end() && queued->second >= api.settings.jobs.max_queued)
    return json_error(429, "too_many_queued_jobs",
                      std::to_string(queued->second) + " jobs are waiting (jobs.max_queued); try again later");
  job.client = request.client;
  if (!job.client.empty() && api.store.count_queued_for(job.client) >= api.settings.jobs.max_queued_per_key)
    return json_error(429, "too_many_queued_jobs",
                      "this API key has " + std::to_string(api.settings.jobs.max_queued_per_key) +
                          " jobs waiting (jobs.max_queued_per_key); try again later");
  // A forbidden direct target is refused now, not as a failed job after connect attempts.
  const auto resolved = resolve_target(api.settings.targets, job.server, job.provider);
  if (const auto* target = std::get_if<ResolvedTarget>(&resolved))
    if (auto rejection = check_allowed(api.settings.targets, *target)) return reject(*rejection);
  job.bucket_id = new_bucket_id();
  created = api.store.create(job);
  api.runner.wake();
  return std::nullopt;
}

}  // namespace

std::string iso8601_ms(std::int64_t unix_ms) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(unix_ms % 1000));
  return text;
}

std::optional<RangeRequest> parse_range(const std::string& header, std::uint64_t size) {
  const std::string prefix = "bytes=";
  if (header.compare(0, prefix.size(), prefix) != 0 || header.find(',') != std::string::npos) return std::nullopt;
  const auto spec = header.substr(prefix.size());
  const auto dash = spec.find('-');
  if (dash == std::string::npos) return std::nullopt;
  auto number = [](const std::string& text) -> std::optional<std::uint64_t> {
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
  };
  const auto first = spec.substr(0, dash), last = spec.substr(dash + 1);
  if (first.empty()) {  // suffix: the last N bytes
    auto n = number(last);
    if (!n) return std::nullopt;
    if (*n == 0 || size == 0) return RangeRequest{0, 0};
    const auto length = std::min(*n, size);
    return RangeRequest{size - length, length};
  }
  auto from = number(first);
  if (!from) return std::nullopt;
  if (*from >= size) return RangeRequest{0, 0};
  std::uint64_t to = size - 1;
  if (!last.empty()) {
    auto parsed = number(last);
    if (!parsed || *parsed < *from) return std::nullopt;
    to = std::min(*parsed, size - 1);
  }
  return RangeRequest{*from, to - *from + 1};
}

json job_json(const jobs::Job& job, const std::vector<jobs::Segment>& segments,
              const std::optional<record::Progress>& progress, bool full) {
  const std::string base = "/api/v1/recordings/" + job.id;
  json out = {{"job_id", job.id},
              {"bucket_id", job.bucket_id},
              {"server", job.server},
              {"target", job.target},
              {"provider", job.provider},
              {"state", std::string(jobs::to_string(job.state))},
              {"duration", job.duration_s},
              {"count", job.count},
              {"options", job.encoder_options},
              {"created_at", iso8601_ms(job.created_unix_ms)},
              {"updated_at", iso8601_ms(job.updated_unix_ms)},
              {"failure_reason", text_or_null(job.failure_reason)},
              {"reconnects", job.reconnects},
              {"cancel_requested", job.cancel_requested},
              {"thumbnail_url", base + "/thumbnail"}};
  if (progress)
    out["progress"] = {{"segment", progress->segment},
                       {"count", progress->count},
                       {"elapsed_s", progress->elapsed_ms / 1000.0},
                       {"total_s", progress->total_ms / 1000.0},
                       {"frames", progress->frames}};
  else
    out["progress"] = nullptr;
  if (!full) return out;
  out["transitions"] = json::array();
  for (const auto& t : job.transitions)
    out["transitions"].push_back({{"state", std::string(jobs::to_string(t.state))},
                                  {"at", iso8601_ms(t.at_unix_ms)},
                                  {"reason", text_or_null(t.reason)}});
  out["segments"] = json::array();
  for (const auto& s : segments)
    out["segments"].push_back({{"index", s.index},
                               {"state", std::string(jobs::to_string(s.state))},
                               {"bytes", s.bytes},
                               {"duration", s.duration_ms / 1000.0},
                               {"frames", s.frames},
                               {"sha256", text_or_null(s.sha256)},
                               {"start", time_or_null(s.start_unix_ms)},
                               {"end", time_or_null(s.end_unix_ms)},
                               {"url", base + "/segments/" + std::to_string(s.index)},
                               {"error", text_or_null(s.error)},
                               {"upload_attempts", s.upload_attempts}});
  return out;
}

void add_recording_routes(Router& router, const RecordingsApi& api) {
  // Copies of `api` live in the handlers; the objects it refers to outlive the router.
  auto find_job = [api](const HttpRequest& request) -> std::optional<jobs::Job> {
    const auto& id = request.params.at("id");
    if (!is_job_id(id)) return std::nullopt;
    return api.store.get(id);
  };
  auto full_json = [api](const jobs::Job& job) {
    auto out = job_json(job, api.store.segments(job.id), api.runner.progress(job.id), true);
    out["files"] = json::array();
    for (const auto& name : fbs_files(api, job))
      out["files"].push_back({{"name", name}, {"url", "/api/v1/recordings/" + job.id + "/files/" + name}});
    return out;
  };

  router.add("POST", "/record", [api](const HttpRequest& request) {
    jobs::Job job;
    if (auto refused = create_job(api, request, job)) return *refused;
    return json_response(202, json{{"bucket_id", job.bucket_id}, {"job_id", job.id}}.dump());
  });
  router.add("POST", "/api/v1/recordings", [api, full_json](const HttpRequest& request) {
    jobs::Job job;
    if (auto refused = create_job(api, request, job)) return *refused;
    auto r = json_response(202, full_json(job).dump());
    r.headers.emplace_back("Location", "/api/v1/recordings/" + job.id);
    return r;
  });
  router.add("GET", "/api/v1/recordings", [api](const HttpRequest& request) {
    jobs::JobQuery query;
    if (auto it = request.query.find("state"); it != request.query.end() && !it->second.empty()) {
      query.state = jobs::parse_job_state(it->second);
      if (!query.state) return json_error(400, "invalid_query", "unknown state '" + it->second + "'");
    }
    if (auto it = request.query.find("server"); it != request.query.end() && !it->second.empty())
      query.server = it->second;
    if (auto it = request.query.find("limit"); it != request.query.end()) {
      auto limit = parse_int(it->second);
      if (!limit || *limit < 1 || *limit > 1000)
        return json_error(400, "invalid_query", "limit must be a number from 1 to 1000");
      query.limit = *limit;
    }
    if (auto it = request.query.find("cursor"); it != request.query.end() && !it->second.empty())
      query.cursor = it->second;
    const auto page = api.store.list(query);
    json out = {{"recordings", json::array()}, {"next_cursor", nullptr}};
    for (const auto& job : page.jobs)
      out["recordings"].push_back(job_json(job, {}, api.runner.progress(job.id), false));
    if (page.next_cursor) out["next_cursor"] = *page.next_cursor;
    return json_response(200, out.dump());
  });
  router.add("GET", "/api/v1/recordings/{id}", [find_job, full_json](const HttpRequest& request) {
    auto job = find_job(request);
    if (!job) return json_error(404, "not_found", "no such recording");
    return json_response(200, full_json(*job).dump());
  });
  router.add("DELETE", "/api/v1/recordings/{id}", [api, find_job, full_json](const HttpRequest& request) {
    auto job = find_job(request);
    if (!job) return json_error(404, "not_found", "no such recording");
    if (!jobs::is_terminal(job->state)) {
      api.store.request_cancel(job->id, "cancelled by request");
      api.runner.cancel(job->id);
    }
    return json_response(200, full_json(*api.store.get(job->id)).dump());
  });
  auto segment_of = [api, find_job](const HttpRequest& request, jobs::Job& job) -> std::optional<jobs::Segment> {
    auto found = find_job(request);
    auto index = parse_int(request.params.at("n"));
    if (!found || !index) return std::nullopt;
    job = *found;
    return api.store.segment(job.id, *index);
  };
  router.add("GET", "/api/v1/recordings/{id}/segments/{n}", [api, segment_of](const HttpRequest& request) {
    jobs::Job job;
    auto segment = segment_of(request, job);
    if (!segment) return json_error(404, "not_found", "no such segment");
    if (segment->state == jobs::SegmentState::recording || segment->state == jobs::SegmentState::pending)
      return json_error(409, "not_ready", "segment " + std::to_string(segment->index) + " is still being recorded");
    const auto key = segment->state == jobs::SegmentState::uploaded ? fs::path(segment->object_key).filename().string()
                                                                    : std::string();
    return serve_object(api, job, segment->local_path, key, "video/mp4", request);
  });
  // The files beside a segment's MP4: its sidecar and its transcript (docs/text.md).
  auto beside = [api, segment_of](const char* extension, const char* content_type) {
    return [api, segment_of, extension, content_type](const HttpRequest& request) {
      jobs::Job job;
      auto segment = segment_of(request, job);
      if (!segment) return json_error(404, "not_found", "no such segment");
      const auto local = fs::path(segment->local_path).replace_extension(extension);
      const auto key = segment->state == jobs::SegmentState::uploaded ? local.filename().string() : std::string();
      return serve_object(api, job, local.string(), key, content_type, request);
    };
  };
  router.add("GET", "/api/v1/recordings/{id}/segments/{n}/sidecar", beside(".json", "application/json"));
  router.add("GET", "/api/v1/recordings/{id}/segments/{n}/transcript",
             beside(".transcript.jsonl", "application/jsonl; charset=utf-8"));
  // The picture of a segment `t` seconds into it, as a PNG at most `width` wide (a search hit's thumbnail), on
  // this blocking thread: from the FBS recording and its checkpoints when the job has them as files (lossless,
  // a seek), else decoded from the MP4 where it lies (FFmpeg: the keyframe before `t`, then forward).
  router.add("GET", "/api/v1/recordings/{id}/segments/{n}/frame", [api, segment_of](const HttpRequest& request) {
    jobs::Job job;
    auto segment = segment_of(request, job);
    if (!segment) return json_error(404, "not_found", "no such segment");
    if (segment->state == jobs::SegmentState::recording || segment->state == jobs::SegmentState::pending)
      return json_error(409, "not_ready", "segment " + std::to_string(segment->index) + " is still being recorded");
    const auto t = request.query.find("t");
    const auto seconds = parse_seconds(t == request.query.end() ? "0" : t->second);
    if (!seconds) return json_error(400, "invalid_query", "t must be seconds into the segment, 0 to 86400");
    const auto w = request.query.find("width");
    const auto width = parse_int(w == request.query.end() ? "320" : w->second);
    if (!width || *width < 16 || *width > 4096)
      return json_error(400, "invalid_query", "width must be a number of pixels from 16 to 4096");
    std::optional<framebuffer::PixelBuffer> picture;
    const char* from = "fbs";
    try {
      picture = fbs_picture(api, job, *segment, *seconds, *width);
    } catch (const Error& e) {  // a damaged recording: the MP4 still has the picture
      spdlog::warn("recordings: frame of {} segment {} from FBS: {}", job.id, segment->index, e.what());
    }
    if (!picture) {
      from = "mp4";
      const auto source = segment_source(api, job, *segment);
      if (!source) return json_error(404, "not_found", "the segment's video is not available");
      try {
        picture = framebuffer::shrink_to_width(record::mp4_frame_at(*source, *seconds), *width);
      } catch (const CodecError& e) {
        return json_error(422, "unreadable", std::string("cannot decode the segment: ") + e.what());
      }
    }
    HttpResponse r;
    r.status = 200;
    r.content_type = "image/png";
    r.body = framebuffer::encode_png(*picture);
    r.headers.emplace_back("X-Frame-Source", from);
    r.headers.emplace_back("Cache-Control", "private, max-age=86400");  // a finished segment never changes
    return r;
  });
  router.add("GET", "/api/v1/recordings/{id}/thumbnail", [api, find_job](const HttpRequest& request) {
    auto job = find_job(request);
    if (!job) return json_error(404, "not_found", "no such recording");
    auto r = serve_object(api, *job, api.runner.thumbnail_path(job->id), {}, "image/png", request);
    if (r.status == 404) return json_error(404, "not_found", "no frame captured yet");
    r.headers.emplace_back("Cache-Control", "no-cache");
    return r;
  });
  // The lossless FBS files of a job (one per upstream connection, each with its seek index).
  router.add("GET", "/api/v1/recordings/{id}/files/{name}", [api, find_job](const HttpRequest& request) {
    auto job = find_job(request);
    const auto& name = request.params.at("name");
    if (!job || !is_fbs_file_name(name)) return json_error(404, "not_found", "no such file");
    const auto local = fs::path(api.runner.work_dir_of(job->id)) / name;
    return serve_object(api, *job, local.string(), name, "application/octet-stream", request);
  });
}

// recording-2.fbs: a later connection; recording-from-003.fbs (recording-from-003-2.fbs): a run resumed at
// segment 3; .ckpt sidecars are built when the recording ends.
bool is_fbs_file_name(const std::string& name) {
  std::string_view rest(name);
  if (!rest.starts_with("recording")) return false;
  rest.remove_prefix(9);
  auto number = [&rest] {  // "-" and 1 to 6 digits
    if (!rest.starts_with("-")) return false;
    const auto digits = rest.find_first_not_of("0123456789", 1);
    if (digits == 1 || digits == std::string_view::npos || digits > 7) return false;
    rest.remove_prefix(digits);
    return true;
  };
  if (rest.starts_with("-from")) {
    rest.remove_prefix(5);
    if (!number()) return false;
  }
  if (rest.starts_with("-") && !number()) return false;
  return rest == ".fbs" || rest == ".fbs.idx" || rest == ".fbs.ckpt";
}

}  // namespace vncgate::service
