// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vncgate::fbs {

// The keyframe index sidecar `<file>.fbs.idx` (docs/fbs.md §6): "FBSIDX01" then 16-byte big-endian records
// {u32 ms, u32 flags, u64 offset}. `offset` is the file offset of a block that starts at an RFB message
// boundary (right after a completed FramebufferUpdate); `ms` is the timestamp of the block before it, i.e.
// the recording time at which that boundary was reached. Records are in file order, ms non-decreasing.
inline constexpr std::string_view kIndexMagic = "FBSIDX01";
inline constexpr std::size_t kIndexRecordSize = 16;

enum IndexFlags : std::uint32_t {
  kIndexScreenPainted = 1,  // every pixel had been painted at least once by this point
};

struct IndexEntry {
  std::uint32_t ms = 0;
  std::uint64_t offset = 0;
  std::uint32_t flags = 0;
  bool operator==(const IndexEntry&) const = default;
};

inline std::string index_path_for(const std::string& fbs_path) { return fbs_path + ".idx"; }

std::vector<std::uint8_t> encode_index_header();
std::vector<std::uint8_t> encode_index_entry(const IndexEntry& entry);

// Parses an index. A torn last record (crash while writing) is dropped; so is everything after a record
// that breaks ordering. nullopt when the magic is wrong (not an index).
std::optional<std::vector<IndexEntry>> parse_index(std::span<const std::uint8_t> bytes);
// Reads and parses `path`; an empty list when the file is missing or unusable (the index is only a help:
// everything it says can be recomputed by reading the FBS file).
std::vector<IndexEntry> read_index(const std::string& path);

// The last entry at or before `ms` (the place to start pacing from when seeking), or nullopt.
std::optional<IndexEntry> entry_before(std::span<const IndexEntry> index, std::uint32_t ms);

}  // namespace vncgate::fbs
