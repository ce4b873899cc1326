// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <filesystem>
#include <istream>
#include <memory>
#include <optional>
#include <string>

#include "framebuffer/pixel_buffer.hpp"
#include "jobs/job.hpp"
#include "record/mp4_frame.hpp"
#include "service/recordings_api.hpp"
#include "storage/storage.hpp"

namespace vncgate::service {

// A stored object read by ranges, for readers that jump into a big object and read on from there. Reads start
// at `first_chunk` bytes after a jump and double while the reader goes on, up to 1 MiB, so that a jump costs
// one small GET and reading on a few. With `stat_first` (one request more) the size is known and nullopt says
// the object does not exist; without, the size is kUnknownSize, the end is where reads come back short and a
// missing object is a StorageError at the first read. A read fault throws StorageError.
inline constexpr std::uint64_t kUnknownSize = UINT64_MAX;
// An FBS recording's first read after a jump: a checkpoint is followed by up to ~1 MiB to decode.
inline constexpr std::uint64_t kRecordingFirstChunk = 256 << 10;
// What is kept of an FBS recording's start for seeks in it (the reader checks its header).
inline constexpr std::uint64_t kRecordingHeadBytes = 4096;
std::optional<record::RangeSource> stored_range_source(std::shared_ptr<storage::Storage> storage,
                                                       const std::string& bucket, const std::string& key,
                                                       std::uint64_t first_chunk = 1 << 20, bool stat_first = true);

// A RangeSource as a seekable std::istream (what fbs::Reader reads); `head`, when given, holds the source's
// first bytes, which are then not read from it. A read fault comes out of the stream's reads as the source's
// own exception (its exception mask holds badbit), not as an end of file.
std::unique_ptr<std::istream> range_stream(record::RangeSource source, std::string head = {});

// A segment's MP4 where it lies: the local file until it is uploaded, then the object.
std::optional<record::RangeSource> segment_source(const RecordingsApi& api, const jobs::Job& job,
                                                  const jobs::Segment& segment);

// The lossless picture of a segment `seconds` into it, at most `width` wide, from the job's FBS recording:
// when the segment's sidecar places the instant in an FBS file whose checkpoint sidecar is built (so that it
// is a seek, not a decode from the start) and the file reaches the instant (a cut one may not). The files are
// read where they are: the work directory, file:// storage, or by ranges from S3 (the checkpoint sidecar, the
// segment's sidecar and the recording's header are copied once to work_dir/seek-cache, which keeps at most
// kSeekCacheBytes). nullopt: decode the MP4 instead.
// Throws vncgate::Error for a damaged recording or a storage fault.
std::optional<framebuffer::PixelBuffer> fbs_picture(const RecordingsApi& api, const jobs::Job& job,
                                                    const jobs::Segment& segment, double seconds, int width);

// The picture at `ms` of the FBS recording `key` in storage, at most `width` wide: read by ranges from the
// checkpoint before `ms` on (`checkpoints`: a local copy of its sidecar; `head`: its first bytes, not read
// again). nullopt when the recording does not reach `ms`; throws vncgate::Error like fbs_picture.
std::optional<framebuffer::PixelBuffer> stored_fbs_picture(std::shared_ptr<storage::Storage> storage,
                                                           const std::string& bucket, const std::string& key,
                                                           const std::string& checkpoints, std::string head,
                                                           std::uint32_t ms, int width);

inline constexpr std::uint64_t kSeekCacheBytes = 256ull << 20;

// Drops the least recently used (oldest modified) files under `cache_dir` until all of them take at most
// `max_bytes`, and the directories that become empty.
void trim_seek_cache(const std::filesystem::path& cache_dir, std::uintmax_t max_bytes);

}  // namespace vncgate::service
