// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace vncgate::fbs {

// The 12-byte file headers (docs/fbs.md §1). We write 001.001 and read both.
inline constexpr std::string_view kMagic001 = "FBS 001.001\n";
inline constexpr std::string_view kMagic000 = "FBS 001.000\n";
inline constexpr std::size_t kMagicSize = 12;

// A block's length field above this is treated as corruption: real writers use <= 64 KiB (rfbproxy,
// vncproxy) or <= 1 MiB (ours).
inline constexpr std::uint32_t kMaxBlockBytes = 64u << 20;
// A timestamp may not jump forward by more than this between blocks (a week): larger gaps are corruption.
inline constexpr std::uint32_t kMaxTimestampJumpMs = 7u * 24 * 3600 * 1000;

inline std::size_t padded4(std::size_t n) { return (n + 3) & ~std::size_t{3}; }

inline void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 24));
  out.push_back(static_cast<std::uint8_t>(v >> 16));
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}

inline std::uint32_t get_u32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

}  // namespace vncgate::fbs
