// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "util/error.hpp"

namespace vncgate {

// Big-endian appends to a byte vector, for state that is written out and read back (FBS checkpoints).
inline void append_u8(std::vector<std::uint8_t>& out, std::uint32_t v) { out.push_back(static_cast<std::uint8_t>(v)); }
inline void append_u16(std::vector<std::uint8_t>& out, std::uint32_t v) {
  append_u8(out, v >> 8);
  append_u8(out, v);
}
inline void append_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  append_u16(out, v >> 16);
  append_u16(out, v & 0xffff);
}
inline void append_u64(std::vector<std::uint8_t>& out, std::uint64_t v) {
  append_u32(out, static_cast<std::uint32_t>(v >> 32));
  append_u32(out, static_cast<std::uint32_t>(v));
}
// A u32 length, then the bytes.
inline void append_sized(std::vector<std::uint8_t>& out, std::span<const std::uint8_t> bytes) {
  append_u32(out, static_cast<std::uint32_t>(bytes.size()));
  out.insert(out.end(), bytes.begin(), bytes.end());
}

// Sequential big-endian reads from bytes that came from outside the process: a read past the end, or a
// length above the caller's limit, throws ProtocolError naming `what` (the data never reads out of bounds).
class ByteCursor {
 public:
  ByteCursor(std::span<const std::uint8_t> data, std::string what) : data_(data), what_(std::move(what)) {}

  std::span<const std::uint8_t> take(std::size_t n) {
    if (n > data_.size() - at_) fail("ends early");
    auto out = data_.subspan(at_, n);
    at_ += n;
    return out;
  }
  std::uint32_t u8() { return take(1)[0]; }
  std::uint32_t u16() {
    auto b = take(2);
    return (b[0] << 8) | b[1];
  }
  std::uint32_t u32() {
    auto b = take(4);
    return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3];
  }
  std::uint64_t u64() {
    const std::uint64_t high = u32();
    return (high << 32) | u32();
  }
  // A u32 length (at most `max`), then that many bytes.
  std::span<const std::uint8_t> sized(std::size_t max) {
    const std::size_t n = u32();
    if (n > max) fail("holds a length of " + std::to_string(n) + " (at most " + std::to_string(max) + ")");
    return take(n);
  }
  std::size_t remaining() const { return data_.size() - at_; }
  [[noreturn]] void fail(const std::string& why) const { throw ProtocolError(what_ + " " + why); }

 private:
  std::span<const std::uint8_t> data_;
  std::size_t at_ = 0;
  std::string what_;
};

}  // namespace vncgate
