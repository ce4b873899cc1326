// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace vncgate::rfb {

// Bytes received from the server and not yet parsed. Parsers check `has(n)` before each read and return
// false when more bytes are needed; the caller then `restore()`s to the last `mark()` and feeds more (the
// TigerVNC "restore point" model: needing more bytes is not an error). All reads are big endian (RFB).
class InBuffer {
 public:
  void append(std::span<const std::uint8_t> bytes) {
    compact();
    data_.insert(data_.end(), bytes.begin(), bytes.end());
  }

  std::size_t available() const { return data_.size() - pos_; }
  bool has(std::size_t n) const { return available() >= n; }

  std::uint8_t u8() { return take(1)[0]; }
  std::uint16_t u16() {
    auto p = take(2);
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
  }
  std::uint32_t u32() {
    auto p = take(4);
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
  }
  std::int32_t s32() { return static_cast<std::int32_t>(u32()); }
  // Returns a pointer to the next n bytes and consumes them; valid until the next append().
  const std::uint8_t* take(std::size_t n) {
    assert(has(n));
    const std::uint8_t* p = data_.data() + pos_;
    pos_ += n;
    return p;
  }
  const std::uint8_t* peek() const { return data_.data() + pos_; }
  void skip(std::size_t n) { take(n); }

  void mark() { mark_ = pos_; }
  void restore() { pos_ = mark_; }
  std::size_t position() const { return pos_; }

  // Frees the storage, keeping only the bytes from the restore point on in an exactly sized buffer (none
  // between messages, the usual case): an idle connection's hibernation.
  void release() {
    const std::size_t keep_from = std::min(mark_, pos_);
    std::vector<std::uint8_t> rest(data_.begin() + static_cast<std::ptrdiff_t>(keep_from), data_.end());
    data_.swap(rest);
    pos_ -= keep_from;
    mark_ -= keep_from;
  }
  std::size_t capacity() const { return data_.capacity(); }

 private:
  // Drops bytes before the restore point once they are a large share of the buffer, so appends stay
  // amortised O(n) without moving data on every call.
  void compact() {
    const std::size_t keep_from = std::min(mark_, pos_);
    if (keep_from > 0 && keep_from * 2 >= data_.size()) {
      data_.erase(data_.begin(), data_.begin() + static_cast<std::ptrdiff_t>(keep_from));
      pos_ -= keep_from;
      mark_ -= keep_from;
    }
  }

  std::vector<std::uint8_t> data_;
  std::size_t pos_ = 0;
  std::size_t mark_ = 0;
};

}  // namespace vncgate::rfb
