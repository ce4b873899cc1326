// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

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
  // Inflates `in` completely and returns exactly `out.size()` bytes into `out`; fails when the chunk yields
  // fewer (truncated) bytes. Surplus output beyond out.size() is an error too (desynchronised stream).
  void inflate_exact(std::span<const std::uint8_t> in, std::span<std::uint8_t> out);
  // Inflates `in` completely, appending all output to `out`; fails beyond `max_out` bytes (zip bombs).
  void inflate_all(std::span<const std::uint8_t> in, std::vector<std::uint8_t>& out, std::size_t max_out);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace vncgate::io
