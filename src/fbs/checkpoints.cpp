// SPDX-License-Identifier: Apache-2.0
#include "fbs/checkpoints.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <fstream>
#include <iterator>

#include "fbs/format.hpp"
#include "util/byte_cursor.hpp"

namespace vncgate::fbs {
namespace {

// Reads the record headers; `size` is the sidecar's length, so a record whose state is not all there is torn.
// nullopt when the file does not start with the magic (not a checkpoint sidecar).
std::optional<std::vector<Checkpoint>> parse_headers(std::istream& in, std::uint64_t size) {
  char magic[kCheckpointMagic.size()];
  if (!in.read(magic, sizeof magic) || std::string_view(magic, sizeof magic) != kCheckpointMagic) return std::nullopt;
  std::vector<Checkpoint> list;
  std::uint64_t at = kCheckpointMagic.size();
  std::uint8_t head[kCheckpointHeaderSize];
  while (at + kCheckpointHeaderSize <= size && in.read(reinterpret_cast<char*>(head), sizeof head)) {
    ByteCursor cursor(head, "checkpoint record");
    Checkpoint c;
    c.ms = cursor.u32();
    c.offset = cursor.u64();
    c.previous_offset = cursor.u64();
    c.previous_crc = cursor.u32();
    c.length = cursor.u32();
    c.crc = cursor.u32();
    c.position = at + kCheckpointHeaderSize;
    if (c.length > kMaxCheckpointBytes || c.position + c.length > size || c.previous_offset >= c.offset) break;
    if (!list.empty() && (c.offset <= list.back().offset || c.ms < list.back().ms)) break;
    list.push_back(c);
    at = c.position + c.length;
    if (!in.seekg(static_cast<std::streamoff>(at))) break;
  }
  return list;
}

void append_header(std::vector<std::uint8_t>& out, const Checkpoint& c) {
  append_u32(out, c.ms);
  append_u64(out, c.offset);
  append_u64(out, c.previous_offset);
  append_u32(out, c.previous_crc);
  append_u32(out, c.length);
  append_u32(out, c.crc);
}

bool write_all(int fd, std::span<const std::uint8_t> bytes, std::uint64_t at) {
  while (!bytes.empty()) {
    const auto n = ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(at));
    if (n <= 0) return false;
    bytes = bytes.subspan(static_cast<std::size_t>(n));
    at += static_cast<std::uint64_t>(n);
  }
  return true;
}

}  // namespace

std::uint32_t crc32_of(std::span<const std::uint8_t> bytes) {
  return static_cast<std::uint32_t>(crc32_z(0, bytes.data(), bytes.size()));
}

std::vector<Checkpoint> list_checkpoints(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return {};
  const auto size = static_cast<std::uint64_t>(in.tellg());
  in.seekg(0);
  return parse_headers(in, size).value_or(std::vector<Checkpoint>{});
}

std::optional<Checkpoint> checkpoint_before(std::span<const Checkpoint> list, std::uint32_t ms) {
  auto it =
      std::upper_bound(list.begin(), list.end(), ms, [](std::uint32_t t, const Checkpoint& c) { return t < c.ms; });
  if (it == list.begin()) return std::nullopt;
  return *std::prev(it);
}

std::optional<std::vector<std::uint8_t>> load_checkpoint(const std::string& path, const Checkpoint& checkpoint) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::uint8_t> state(checkpoint.length);
  if (!in.seekg(static_cast<std::streamoff>(checkpoint.position)) ||
      !in.read(reinterpret_cast<char*>(state.data()), static_cast<std::streamsize>(state.size())) ||
      crc32_of(state) != checkpoint.crc)
    return std::nullopt;
  return state;
}

CheckpointAppender::CheckpointAppender(const std::string& path) { open(path); }

void CheckpointAppender::open(const std::string& path) {
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) return;
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) return deactivate();  // another replay is adding to it
  const auto size = static_cast<std::uint64_t>(std::max<off_t>(::lseek(fd_, 0, SEEK_END), 0));
  if (size == 0) {
    const std::vector<std::uint8_t> magic(kCheckpointMagic.begin(), kCheckpointMagic.end());
    if (!write_all(fd_, magic, 0)) return deactivate();
    end_ = magic.size();
    return;
  }
  std::ifstream in(path, std::ios::binary);
  const auto list = parse_headers(in, size);
  if (!list) return deactivate();  // not a sidecar of ours: left alone
  end_ = list->empty() ? kCheckpointMagic.size() : list->back().position + list->back().length;
  if (!list->empty()) {
    last_offset_ = list->back().offset;
    last_ms_ = list->back().ms;
  }
  if (end_ < size && ::ftruncate(fd_, static_cast<off_t>(end_)) != 0) deactivate();
}

CheckpointAppender::~CheckpointAppender() { deactivate(); }

void CheckpointAppender::deactivate() {
  if (fd_ >= 0) ::close(fd_);  // also releases the lock
  fd_ = -1;
}

void CheckpointAppender::append(Checkpoint checkpoint, std::span<const std::uint8_t> state) {
  if (!active() || checkpoint.offset <= last_offset_ || checkpoint.ms < last_ms_ || state.size() > kMaxCheckpointBytes)
    return;
  checkpoint.length = static_cast<std::uint32_t>(state.size());
  checkpoint.crc = crc32_of(state);
  std::vector<std::uint8_t> record;
  record.reserve(kCheckpointHeaderSize + state.size());
  append_header(record, checkpoint);
  record.insert(record.end(), state.begin(), state.end());
  if (!write_all(fd_, record, end_)) return deactivate();
  end_ += record.size();
  last_offset_ = checkpoint.offset;
  last_ms_ = checkpoint.ms;
}

}  // namespace vncgate::fbs
