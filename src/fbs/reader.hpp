// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vncgate::fbs {

// One FBS block: server bytes (padding removed) and the time they were received, in ms since the start.
struct Block {
  std::vector<std::uint8_t> data;
  std::uint32_t ms = 0;
  std::uint64_t offset = 0;  // file offset of the block's length field
};

// Why reading stopped. Anything but `end` / `end_marker` means the file is damaged after `good_bytes`;
// everything before that point was delivered and stays usable.
enum class StopReason {
  reading,              // not stopped yet
  end,                  // clean end of file after a whole block
  end_marker,           // a zero-length block (rfbproxy's EOF marker; its timestamp is the end)
  truncated,            // the file ends inside a block (e.g. the recorder was killed)
  absurd_length,        // a length field above kMaxBlockBytes
  timestamp_backwards,  // a block older than the one before it
  timestamp_jump,       // a block more than kMaxTimestampJumpMs after the one before it
};

struct ReadStatus {
  StopReason reason = StopReason::reading;
  std::string message;           // for the user, e.g. "truncated block at offset 4242 (file ends after 17 of 64 bytes)"
  std::uint64_t good_bytes = 0;  // file bytes of complete, valid blocks (header included)
  std::uint64_t blocks = 0;      // blocks delivered
  std::uint32_t last_ms = 0;     // timestamp of the last block delivered, or of the end marker
  bool damaged() const {
    return reason != StopReason::reading && reason != StopReason::end && reason != StopReason::end_marker;
  }
};

// Reads FBS 001.001 (ours, docs/fbs.md) and 001.000 (rfbproxy, vncproxy) files block by block, without
// interpreting the RFB stream inside. Construction throws ProtocolError when the header is not an FBS one
// (nothing usable) and IoError when the file cannot be opened; damage later in the file is not an
// exception: next() returns nullopt and status() says where and why. Not thread-safe.
class Reader {
 public:
  static Reader open(const std::string& path);
  static Reader from_bytes(std::vector<std::uint8_t> bytes);
  // Any seekable stream (an object in storage read by ranges); `name` is for messages.
  static Reader from_stream(std::unique_ptr<std::istream> in, std::string name);
  Reader(Reader&&) noexcept;
  Reader& operator=(Reader&&) noexcept;
  ~Reader();

  // 0 for "FBS 001.000", 1 for "FBS 001.001".
  int minor_version() const { return minor_; }
  // The next block, or nullopt once the file ended or is damaged (see status()).
  std::optional<Block> next();
  const ReadStatus& status() const { return status_; }
  // Continues at a block start `offset` (from the index), `ms` being the timestamp of the block before it.
  void seek(std::uint64_t offset, std::uint32_t ms);

 private:
  Reader(std::unique_ptr<std::istream> in, std::string name);
  void stop(StopReason reason, std::string message);

  std::unique_ptr<std::istream> in_;
  std::string name_;
  int minor_ = 1;
  std::uint64_t offset_ = 0;
  bool has_last_ = false;  // status_.last_ms is a real previous timestamp
  ReadStatus status_;
};

// What a recording holds, from its block framing alone (no RFB decoding): for progress bars and checking
// --from/--to against the length before a replay.
struct Summary {
  int minor_version = 1;
  std::uint32_t duration_ms = 0;  // timestamp of the last good block (or end marker)
  std::uint64_t blocks = 0;
  std::uint64_t data_bytes = 0;  // RFB stream bytes in good blocks
  ReadStatus status;             // how the file ended (damaged files are summarised up to the damage)
};
Summary summarize(Reader reader);

}  // namespace vncgate::fbs
