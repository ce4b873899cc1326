// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "util/error.hpp"

namespace vncgate::text {

// Bounds-checked little/big-endian reads from a font file held in memory; every read past the end throws
// CodecError naming the file, so a truncated or hostile font cannot read out of bounds.
class ByteReader {
 public:
  ByteReader(std::span<const std::uint8_t> data, std::string name) : data_(data), name_(std::move(name)) {}

  std::size_t size() const { return data_.size(); }
  // `count` bytes at `offset`.
  std::span<const std::uint8_t> bytes(std::size_t offset, std::size_t count) const {
    if (offset > data_.size() || count > data_.size() - offset) fail("truncated");
    return data_.subspan(offset, count);
  }
  std::uint32_t u8(std::size_t offset) const { return bytes(offset, 1)[0]; }
  std::uint32_t u16(std::size_t offset, bool big_endian) const {
    auto b = bytes(offset, 2);
    return big_endian ? (b[0] << 8) | b[1] : b[0] | (b[1] << 8);
  }
  std::uint32_t u32(std::size_t offset, bool big_endian) const {
    auto b = bytes(offset, 4);
    return big_endian ? (std::uint32_t{b[0]} << 24) | (b[1] << 16) | (b[2] << 8) | b[3]
                      : b[0] | (b[1] << 8) | (b[2] << 16) | (std::uint32_t{b[3]} << 24);
  }
  [[noreturn]] void fail(const std::string& what) const { throw CodecError("font " + name_ + ": " + what); }
  const std::string& name() const { return name_; }

 private:
  std::span<const std::uint8_t> data_;
  std::string name_;
};

}  // namespace vncgate::text
