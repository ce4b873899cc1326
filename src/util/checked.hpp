// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <optional>

namespace vncgate {

// Overflow-checked size arithmetic for every size read from the wire before it reaches an allocation.
inline std::optional<std::size_t> checked_mul(std::size_t a, std::size_t b) {
  std::size_t r;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

inline std::optional<std::size_t> checked_mul(std::size_t a, std::size_t b, std::size_t c) {
  auto ab = checked_mul(a, b);
  if (!ab) return std::nullopt;
  return checked_mul(*ab, c);
}

inline std::optional<std::size_t> checked_add(std::size_t a, std::size_t b) {
  std::size_t r;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}

}  // namespace vncgate
