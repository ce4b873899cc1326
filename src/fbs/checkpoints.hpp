// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vncgate::fbs {

// The checkpoint sidecar `<file>.fbs.ckpt` (docs/fbs.md §7): the decoder's whole state at points of the
// recording, so that a replay can start at the last one before the wanted instant instead of at the start.
// "FBSCKP01", then records: u32 ms, u64 offset, u64 previous_offset, u32 previous_crc, u32 length,
// u32 crc, then `length` bytes of state (rfb::ClientConnection::save_checkpoint), big endian.
inline constexpr std::string_view kCheckpointMagic = "FBSCKP01";
inline constexpr std::size_t kCheckpointHeaderSize = 32;
// A checkpoint holds one packed picture and a few 32 KiB windows; more is not one of ours.
inline constexpr std::uint32_t kMaxCheckpointBytes = 256u << 20;

inline std::string checkpoints_path_for(const std::string& fbs_path) { return fbs_path + ".ckpt"; }

struct Checkpoint {
  std::uint32_t ms = 0;               // recording time of the state (the timestamp of the block before `offset`)
  std::uint64_t offset = 0;           // the FBS block that continues from this state
  std::uint64_t previous_offset = 0;  // the block that ended at this state...
  std::uint32_t previous_crc = 0;     // ...and the CRC-32 of its data: a checkpoint belongs to one file only
  std::uint64_t position = 0;         // where its state lies in the sidecar
  std::uint32_t length = 0;
  std::uint32_t crc = 0;  // of the state
};

// The checkpoints of a sidecar in file order (offsets increasing, ms non-decreasing). Stops at a torn or
// out-of-order record; an empty list when the file is missing or not a checkpoint sidecar.
std::vector<Checkpoint> list_checkpoints(const std::string& path);
// The last checkpoint at or before `ms`.
std::optional<Checkpoint> checkpoint_before(std::span<const Checkpoint> list, std::uint32_t ms);
// The state of `checkpoint`, or nullopt when it cannot be read or its CRC does not match.
std::optional<std::vector<std::uint8_t>> load_checkpoint(const std::string& path, const Checkpoint& checkpoint);
std::uint32_t crc32_of(std::span<const std::uint8_t> bytes);

// Adds checkpoints to a sidecar while a replay passes points beyond its last one. One appender per sidecar
// at a time (an exclusive lock; a second one, in this process or another, stays inactive and writes nothing).
// A torn last record (a crash while appending) is cut off when the appender opens the file. Write errors
// make it inactive: the sidecar is only a help.
class CheckpointAppender {
 public:
  explicit CheckpointAppender(const std::string& path);
  ~CheckpointAppender();
  CheckpointAppender(const CheckpointAppender&) = delete;
  CheckpointAppender& operator=(const CheckpointAppender&) = delete;

  bool active() const { return fd_ >= 0; }
  // The offset new checkpoints must lie beyond (the last one's, 0 for none).
  std::uint64_t last_offset() const { return last_offset_; }
  std::uint32_t last_ms() const { return last_ms_; }
  void append(Checkpoint checkpoint, std::span<const std::uint8_t> state);

 private:
  void open(const std::string& path);
  void deactivate();

  int fd_ = -1;
  std::uint64_t end_ = 0;
  std::uint64_t last_offset_ = 0;
  std::uint32_t last_ms_ = 0;
};

}  // namespace vncgate::fbs
