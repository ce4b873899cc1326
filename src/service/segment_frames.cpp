// SPDX-License-Identifier: Apache-2.0
#include "service/segment_frames.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <streambuf>
#include <vector>

#include "fbs/checkpoints.hpp"
#include "fbs/replay.hpp"
#include "record/sidecar.hpp"
#include "service/job_request.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace vncgate::service {

namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t kMaxChunk = 1 << 20;

class RangeStreamBuf final : public std::streambuf {
 public:
  RangeStreamBuf(record::RangeSource source, std::string head) : source_(std::move(source)), head_(std::move(head)) {}

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    const std::uint64_t at = position();
    if (at < head_.size() && at < source_.size) {  // known bytes: no read
      const auto end = static_cast<std::size_t>(std::min<std::uint64_t>(head_.size(), source_.size));
      buffer_.assign(head_.begin() + static_cast<std::ptrdiff_t>(at), head_.begin() + static_cast<std::ptrdiff_t>(end));
      start_ = at;
      setg(buffer_.data(), buffer_.data(), buffer_.data() + buffer_.size());
      return traits_type::to_int_type(*gptr());
    }
    buffer_.resize(kBuffer);
    std::size_t n = 0;
    if (at < source_.size) {
      const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(kBuffer, source_.size - at));
      n = source_.read(at, std::span(reinterpret_cast<std::uint8_t*>(buffer_.data()), want));
    }
    start_ = at;
    setg(buffer_.data(), buffer_.data(), buffer_.data() + n);
    return n == 0 ? traits_type::eof() : traits_type::to_int_type(*gptr());
  }
  pos_type seekoff(off_type off, std::ios_base::seekdir dir, std::ios_base::openmode which) override {
    const off_type base = dir == std::ios_base::beg   ? 0
                          : dir == std::ios_base::cur ? static_cast<off_type>(position())
                                                      : static_cast<off_type>(source_.size);
    return seekpos(pos_type(base + off), which);
  }
  pos_type seekpos(pos_type pos, std::ios_base::openmode which) override {
    const off_type to = pos;
    if (!(which & std::ios_base::in) || to < 0 || static_cast<std::uint64_t>(to) > source_.size)
      return pos_type(off_type(-1));
    const auto at = static_cast<std::uint64_t>(to);
    if (at >= start_ && at <= start_ + static_cast<std::uint64_t>(egptr() - eback())) {
      setg(eback(), eback() + (at - start_), egptr());  // within what was read: no new read
    } else {
      start_ = at;
      setg(buffer_.data(), buffer_.data(), buffer_.data());  // empty: the next read starts at `at`
    }
    return pos;
  }

 private:
  std::uint64_t position() const { return start_ + static_cast<std::uint64_t>(gptr() - eback()); }

  static constexpr std::size_t kBuffer = 64 << 10;
  record::RangeSource source_;
  std::string head_;  // the source's first bytes, when known
  std::vector<char> buffer_;
  std::uint64_t start_ = 0;  // source offset of eback()
};

class RangeStream final : public std::istream {
 public:
  RangeStream(record::RangeSource source, std::string head)
      : std::istream(nullptr), buf_(std::move(source), std::move(head)) {
    rdbuf(&buf_);
    exceptions(std::ios::badbit);  // a storage fault is one, not an end of file
  }

 private:
  RangeStreamBuf buf_;
};

// FNV-1a, 64 bits, as 16 hex digits: a stable file name for an object.
std::string name_hash(const std::string& text) {
  std::uint64_t h = 1469598103934665603ull;
  for (const unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  static const char* hex = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) out[static_cast<std::size_t>(i)] = hex[h & 15];
  return out;
}

fs::path seek_cache_dir(const RecordingsApi& api) { return fs::path(api.settings.jobs.work_dir) / "seek-cache"; }

// A local copy of an object a finished job keeps in storage, for seeks: the checkpoint sidecar (a replay reads
// checkpoints by path), the segment's JSON sidecar and the first bytes of an FBS recording (its header), so that
// a thumbnail costs only the GETs of the recording from the checkpoint on. In cache_dir/<job>/<hash of bucket
// and key><suffix>, fetched once: a finished job's objects do not change (and a checkpoint copy that does not
// belong to its recording is not used: the replay checks each one against the recording's bytes). The whole
// object when it has at most `max_bytes`, or (Part::head) its first `max_bytes`. nullopt when the object is
// missing, empty, too large or cannot be copied (the caller decodes the MP4 instead).
enum class Part { whole, head };
std::optional<std::string> cached_copy(storage::Storage& storage, const std::string& bucket, const std::string& key,
                                       const fs::path& cache_dir, const std::string& job_id, const std::string& suffix,
                                       std::uint64_t max_bytes, Part part = Part::whole) {
  const auto path = cache_dir / job_id / (name_hash(bucket + '\n' + key) + suffix);
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) {
    fs::last_write_time(path, fs::file_time_type::clock::now(), ec);  // recently used: trimmed last
    return path.string();
  }
  std::optional<std::string> bytes;
  if (part == Part::head) {
    bytes = storage.read(bucket, key, storage::ByteRange{0, max_bytes});
  } else {
    const auto info = storage.stat(bucket, key);
    if (!info || info->size > max_bytes) return std::nullopt;
    bytes = storage.read(bucket, key);
    if (bytes && bytes->size() != info->size) return std::nullopt;  // changed while read: the next request retries
  }
  if (!bytes || bytes->empty()) return std::nullopt;
  fs::create_directories(path.parent_path(), ec);
  static std::atomic<unsigned> copies{0};
  const auto partial = path.string() + ".part-" + std::to_string(::getpid()) + "-" + std::to_string(++copies);
  bool written = false;
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    written = out && out.write(bytes->data(), static_cast<std::streamsize>(bytes->size())) && out.flush();
  }
  if (written) fs::rename(partial, path, ec);
  if (!written || ec) {
    fs::remove(partial, ec);
    spdlog::warn("recordings: cannot keep a copy of {} in {}", key, cache_dir.string());
    return std::nullopt;
  }
  trim_seek_cache(cache_dir, kSeekCacheBytes);
  return path.string();
}

std::optional<std::string> read_small_file(const fs::path& path, std::uintmax_t max_bytes) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec || size > max_bytes) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  std::string bytes(std::istreambuf_iterator<char>(in), {});
  if (bytes.size() != size) return std::nullopt;
  return bytes;
}

// A segment's JSON sidecar (small: its events are capped): beside the local MP4, else a copy of the object.
std::optional<std::string> segment_sidecar(const RecordingsApi& api, const jobs::Job& job,
                                           const jobs::Segment& segment) {
  static constexpr std::uintmax_t kMaxSidecarBytes = 4 << 20;
  const auto local = fs::path(segment.local_path).replace_extension(".json");
  std::error_code ec;
  if (!segment.local_path.empty() && fs::is_regular_file(local, ec)) return read_small_file(local, kMaxSidecarBytes);
  if (segment.state != jobs::SegmentState::uploaded) return std::nullopt;
  const auto where = api.site.locate_job(job.bucket_id);
  const auto key = where.prefix + fs::path(segment.object_key).replace_extension(".json").filename().string();
  const auto copy =
      cached_copy(api.site.storage(), where.bucket, key, seek_cache_dir(api), job.id, ".json", kMaxSidecarBytes);
  return copy ? read_small_file(*copy, kMaxSidecarBytes) : std::nullopt;
}

}  // namespace

void trim_seek_cache(const std::filesystem::path& cache_dir, std::uintmax_t max_bytes) {
  static std::mutex trimming;
  std::lock_guard lock(trimming);
  struct Copy {
    fs::file_time_type used;
    std::uintmax_t size;
    fs::path path;
  };
  std::vector<Copy> copies;
  std::uintmax_t total = 0;
  std::error_code ec;
  for (const auto& entry : fs::recursive_directory_iterator(cache_dir, ec)) {
    if (!entry.is_regular_file(ec)) continue;
    Copy c{entry.last_write_time(ec), entry.file_size(ec), entry.path()};
    if (ec) continue;
    total += c.size;
    copies.push_back(std::move(c));
  }
  std::sort(copies.begin(), copies.end(), [](const Copy& a, const Copy& b) { return a.used < b.used; });
  for (const auto& c : copies) {
    if (total <= max_bytes) break;
    if (!fs::remove(c.path, ec)) continue;
    total -= c.size;
    fs::remove(c.path.parent_path(), ec);  // the job's directory, once empty
  }
}

std::optional<record::RangeSource> stored_range_source(std::shared_ptr<storage::Storage> storage,
                                                       const std::string& bucket, const std::string& key,
                                                       std::uint64_t first_chunk, bool stat_first) {
  std::optional<storage::ObjectInfo> info = storage::ObjectInfo{key, kUnknownSize, ""};
  if (stat_first) info = storage->stat(bucket, key);
  if (!info) return std::nullopt;
  first_chunk = std::clamp<std::uint64_t>(first_chunk, 4096, kMaxChunk);
  struct Cache {
    std::uint64_t offset = 0;
    std::string bytes;
    std::uint64_t chunk = 0;
  };
  auto cache = std::make_shared<Cache>();
  const std::uint64_t size = info->size;
  return record::RangeSource{
      size, [storage, bucket, key, cache, size, first_chunk](std::uint64_t offset, std::span<std::uint8_t> into) {
        if (offset >= size) return std::size_t{0};
        if (offset < cache->offset || offset >= cache->offset + cache->bytes.size()) {
          const bool reading_on = !cache->bytes.empty() && offset == cache->offset + cache->bytes.size();
          cache->chunk = reading_on ? std::min(cache->chunk * 2, kMaxChunk) : first_chunk;
          // Whole chunks stay aligned: FFmpeg's reads back and forth around one place hit the same chunk.
          const auto start = first_chunk == kMaxChunk ? offset / kMaxChunk * kMaxChunk : offset;
          auto bytes = storage->read(bucket, key, storage::ByteRange{start, std::min(cache->chunk, size - start)});
          if (!bytes) throw StorageError("the recording is not in storage (any more)");
          if (bytes->empty() && size == kUnknownSize) return std::size_t{0};  // its end
          if (offset >= start + bytes->size()) throw StorageError("the recording in storage is shorter than it was");
          cache->offset = start;
          cache->bytes = std::move(*bytes);
        }
        const auto from = offset - cache->offset;
        const auto n = std::min<std::uint64_t>(into.size(), cache->bytes.size() - from);
        std::memcpy(into.data(), cache->bytes.data() + from, n);
        return static_cast<std::size_t>(n);
      }};
}

std::unique_ptr<std::istream> range_stream(record::RangeSource source, std::string head) {
  return std::make_unique<RangeStream>(std::move(source), std::move(head));
}

std::optional<record::RangeSource> segment_source(const RecordingsApi& api, const jobs::Job& job,
                                                  const jobs::Segment& segment) {
  if (auto local = record::file_range_source(segment.local_path)) return local;
  if (segment.state != jobs::SegmentState::uploaded) return std::nullopt;
  const auto where = api.site.locate_job(job.bucket_id);
  // A MiB at a time, so that FFmpeg's small reads do not each become a request.
  return stored_range_source(api.site.shared_storage(), where.bucket,
                             where.prefix + fs::path(segment.object_key).filename().string(), kMaxChunk);
}

std::optional<framebuffer::PixelBuffer> fbs_picture(const RecordingsApi& api, const jobs::Job& job,
                                                    const jobs::Segment& segment, double seconds, int width) {
  if (!job_encoding(job, api.settings.recording).fbs) return std::nullopt;  // no sidecar to read first
  const auto sidecar = segment_sidecar(api, job, segment);
  if (!sidecar) return std::nullopt;
  // A time past the end shows the last picture, as from the MP4.
  const auto ms = std::min<std::int64_t>(std::llround(seconds * 1000), segment.duration_ms);
  const auto instant = record::fbs_instant_at(record::fbs_places_of(*sidecar), ms);
  if (!instant || !is_fbs_file_name(instant->file) || !instant->file.ends_with(".fbs")) return std::nullopt;
  const auto where = api.site.locate_job(job.bucket_id);
  auto as_file = [&](const std::string& name) -> std::optional<std::string> {
    const auto local = fs::path(api.runner.work_dir_of(job.id)) / name;
    std::error_code ec;
    if (fs::is_regular_file(local, ec)) return local.string();
    return api.site.storage().local_file(where.bucket, where.prefix + name);
  };
  const auto checkpoints_name = fbs::checkpoints_path_for(instant->file);
  if (const auto recording = as_file(instant->file), checkpoints = as_file(checkpoints_name);
      recording && checkpoints) {
    fbs::ReplayOptions options;
    options.checkpoints = *checkpoints;
    return fbs::picture_at(fbs::Reader::open(*recording), instant->ms, std::move(options), width);
  }
  // Only in storage (S3): the checkpoints and the header from local copies, the recording by ranges from the
  // checkpoint before t on.
  auto storage = api.site.shared_storage();
  static constexpr std::uint64_t kMaxCheckpointsBytes = 64 << 20;  // an hour of a terminal session takes ~3 MiB
  const auto checkpoints = cached_copy(*storage, where.bucket, where.prefix + checkpoints_name, seek_cache_dir(api),
                                       job.id, ".ckpt", kMaxCheckpointsBytes);
  if (!checkpoints) return std::nullopt;
  const auto head = cached_copy(*storage, where.bucket, where.prefix + instant->file, seek_cache_dir(api), job.id,
                                ".head", kRecordingHeadBytes, Part::head);
  const auto head_bytes = head ? read_small_file(*head, kRecordingHeadBytes) : std::nullopt;
  if (!head_bytes) return std::nullopt;
  return stored_fbs_picture(storage, where.bucket, where.prefix + instant->file, *checkpoints, *head_bytes, instant->ms,
                            width);
}

std::optional<framebuffer::PixelBuffer> stored_fbs_picture(std::shared_ptr<storage::Storage> storage,
                                                           const std::string& bucket, const std::string& key,
                                                           const std::string& checkpoints, std::string head,
                                                           std::uint32_t ms, int width) {
  // No stat first (a request saved): the recording's end is where the reads come back short.
  auto source = stored_range_source(std::move(storage), bucket, key, kRecordingFirstChunk, false);
  if (!source) return std::nullopt;
  fbs::ReplayOptions options;
  options.checkpoints = checkpoints;
  return fbs::picture_at(fbs::Reader::from_stream(range_stream(std::move(*source), std::move(head)), key), ms,
                         std::move(options), width);
}

}  // namespace vncgate::service
