// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "fbs/index.hpp"
#include "rfb/client_connection.hpp"

namespace vncgate::fbs {

struct WriterOptions {
  std::size_t block_bytes = 64 * 1024;     // a block is cut once it holds this much
  std::uint32_t block_ms = 100;            // ... or once its first byte is this old
  std::uint32_t index_interval_ms = 1000;  // at most one index entry per interval (plus the first)
  std::uint32_t mark_interval_ms = 1000;   // tick() writes a time mark once nothing was written for this long
};

// Writes an FBS 001.001 file (docs/fbs.md) and its index sidecar `<path>.idx`.
// The file starts with a prologue block (ms 0) that makes it replayable without the server: "RFB 003.003\n",
// security type 1 (None), and a ServerInit carrying `pinned` — the pixel format in force on the client, so
// the recorded pixels decode without the SetPixelFormat that is not part of the server stream. After it,
// append() the server's bytes after ServerInit exactly as received (ClientConnection's tap gives them).
// Time passes in a recording without the server saying anything (a still console): between two messages the
// writer adds time marks — a FramebufferUpdate with no rectangles in a block of its own — while the stream is
// idle (tick()) and at the end (close()), so the file's last timestamp is the recording's end (docs/fbs.md §2).
// Every completed block is handed to the OS at once (fflush), so a SIGKILL loses at most the open block
// (<= block_ms of data) or the time since the last mark; a torn last block is tolerated by Reader. Not
// thread-safe. Faults throw IoError.
class Writer {
 public:
  Writer(const std::string& path, const rfb::ServerInit& init, const rfb::PixelFormat& pinned,
         WriterOptions options = {});
  ~Writer();  // close(), errors logged
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Bytes of the server stream received at `ms` (milliseconds since the recording started; a smaller value
  // than the previous one is raised to it, so timestamps never go backwards).
  void append(std::span<const std::uint8_t> bytes, std::uint32_t ms);
  // The stream is at a message boundary (a FramebufferUpdate just ended): cuts the block and, when
  // index_interval_ms passed since the last entry, adds an index entry pointing at the next block.
  void update_boundary(std::uint32_t ms, bool screen_painted);
  // The bytes appended so far end with a whole message (not an update: see update_boundary): a time mark may
  // follow them.
  void message_boundary() { between_messages_ = true; }
  // The recording is still running at `ms`: writes a time mark stamped `ms` when the stream is between two
  // messages (false when it is not: a mark inside a message would corrupt it). Adds an index entry like an
  // update boundary does (always when `index_it`).
  bool mark_time(std::uint32_t ms, bool index_it = false);
  // Periodic upkeep on the recorder's clock (tap_for's `now_ms`; nothing without one), every few hundred ms:
  // writes an open block that has waited block_ms (a Bell or ServerCutText that ended no update) and, once
  // nothing was written for mark_interval_ms, a time mark, so a killed recording keeps its length up to there.
  void tick();
  // Writes the open block (if any) and hands everything to the OS.
  void flush();
  // Ends the recording at `end_ms` (default: now on the tap's clock; none without one) with a time mark and
  // its index entry, then flush() and close both files; idempotent.
  void close(std::optional<std::uint32_t> end_ms = std::nullopt);

  // The recording's clock (milliseconds since it started) for tick() and close(); tap_for() sets it too.
  void set_clock(std::function<std::uint32_t()> now_ms) { now_ms_ = std::move(now_ms); }
  // A ClientConnection tap that appends every unit at `now_ms()` and reports update and message boundaries.
  // Install it right after ServerInit (ClientListener::on_connected): the stream carries zlib state from its
  // start. `now_ms` also becomes the clock of tick() and close().
  std::function<void(std::span<const std::uint8_t>)> tap_for(const rfb::ClientConnection& conn,
                                                             std::function<std::uint32_t()> now_ms);

  std::uint64_t bytes_written() const { return offset_; }
  const std::string& path() const { return path_; }

 private:
  void write_block();
  void add_index_entry(std::uint32_t ms, bool force);
  void write_file(std::FILE* f, std::span<const std::uint8_t> bytes, const std::string& what);

  struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::string path_;
  WriterOptions options_;
  std::unique_ptr<std::FILE, FileCloser> file_;
  std::unique_ptr<std::FILE, FileCloser> index_;
  std::vector<std::uint8_t> block_;
  std::uint32_t block_start_ms_ = 0;
  std::uint32_t last_ms_ = 0;
  std::uint64_t offset_ = 0;  // bytes in the file so far
  bool indexed_once_ = false;
  std::uint32_t last_index_ms_ = 0;
  bool between_messages_ = true;           // the bytes so far end with a whole message (the prologue counts)
  bool painted_ = false;                   // screen_painted of the last update boundary, for the marks' index entries
  std::uint32_t last_write_ms_ = 0;        // timestamp of the last block written
  std::function<std::uint32_t()> now_ms_;  // from tap_for
};

// Records a connection from its ServerInit on, for drivers that cannot act at ServerInit time (e.g.
// rfb::BlockingClient's `prepare` hook runs before connecting): installs a tap on `conn` that opens the
// Writer with the connection's ServerInit and pinned format at the first unit after ServerInit (the client
// asks for a full update at once, so that is immediate). `conn` must outlive this object.
class LazyWriter {
 public:
  LazyWriter(rfb::ClientConnection& conn, std::string path, std::function<std::uint32_t()> now_ms,
             WriterOptions options = {});
  LazyWriter(const LazyWriter&) = delete;  // the tap points at this object
  LazyWriter& operator=(const LazyWriter&) = delete;
  // nullptr until the first unit arrived.
  Writer* writer() { return writer_.get(); }
  void tick() {
    if (writer_) writer_->tick();
  }
  void close(std::optional<std::uint32_t> end_ms = std::nullopt) {
    if (writer_) writer_->close(end_ms);
  }

 private:
  std::unique_ptr<Writer> writer_;
};

}  // namespace vncgate::fbs
