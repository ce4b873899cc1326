// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

namespace vncgate {
class ByteCursor;
}

namespace vncgate::io {

// One persistent zlib inflate stream, as RFB's Zlib, ZRLE and Tight encodings use: every rectangle's chunk
// continues the same stream (dictionary kept) and ends with a sync flush. Errors throw ProtocolError.
class ZlibInflater {
 public:
  ZlibInflater();
  ~ZlibInflater();
  ZlibInflater(const ZlibInflater&) = delete;
  ZlibInflater& operator=(const ZlibInflater&) = delete;

  void reset();
  // Frees the inflate state and its 32 KiB window (an idle connection's hibernation), keeping the window's
  // bytes deflated; the next inflate resumes the stream exactly (raw inflate primed with that dictionary).
  // Possible only while the stream rests on a byte-aligned block boundary, which is where a server's sync
  // flush leaves it after every chunk; elsewhere the stream is kept as is and this returns false.
  bool hibernate();
  bool hibernating() const;
  // A resumable copy of the stream for an FBS checkpoint (docs/fbs.md §7): appends the header bytes read so
  // far and the window, deflated. False (nothing appended) where hibernate() would refuse: mid-block.
  bool save(std::vector<std::uint8_t>& out) const;
  // Continues from what save() wrote (the stream hibernates until the next inflate). The bytes come from a
  // file: anything malformed, including a dictionary that does not inflate, throws ProtocolError.
  void restore(ByteCursor& in);
  // Inflates `in` completely and returns exactly `out.size()` bytes into `out`; fails when the chunk yields
  // fewer (truncated) bytes. Surplus output beyond out.size() is an error too (desynchronised stream).
  void inflate_exact(std::span<const std::uint8_t> in, std::span<std::uint8_t> out);
  // Inflates `in` completely, appending all output to `out`; fails beyond `max_out` bytes (zip bombs).
  void inflate_all(std::span<const std::uint8_t> in, std::vector<std::uint8_t>& out, std::size_t max_out);

 private:
  void ensure_init();
  std::span<const std::uint8_t> skip_header(std::span<const std::uint8_t> in);
  std::size_t run(std::span<const std::uint8_t> in, std::span<std::uint8_t> out);
  bool output_pending() const;
  // The window's last bytes (at most 32 KiB), deflated; nullopt when the stream is not between blocks.
  struct PackedWindow {
    std::vector<std::uint8_t> bytes;
    std::uint32_t size = 0;
  };
  std::optional<PackedWindow> pack_window() const;

  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace vncgate::io
