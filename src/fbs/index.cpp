// SPDX-License-Identifier: Apache-2.0
#include "fbs/index.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>

#include "fbs/format.hpp"

namespace vncgate::fbs {

std::vector<std::uint8_t> encode_index_header() { return {kIndexMagic.begin(), kIndexMagic.end()}; }

std::vector<std::uint8_t> encode_index_entry(const IndexEntry& entry) {
  std::vector<std::uint8_t> out;
  out.reserve(kIndexRecordSize);
  put_u32(out, entry.ms);
  put_u32(out, entry.flags);
  put_u32(out, static_cast<std::uint32_t>(entry.offset >> 32));
  put_u32(out, static_cast<std::uint32_t>(entry.offset));
  return out;
}

std::optional<std::vector<IndexEntry>> parse_index(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < kIndexMagic.size() || !std::equal(kIndexMagic.begin(), kIndexMagic.end(), bytes.begin()))
    return std::nullopt;
  std::vector<IndexEntry> entries;
  for (std::size_t at = kIndexMagic.size(); at + kIndexRecordSize <= bytes.size(); at += kIndexRecordSize) {
    const auto* p = bytes.data() + at;
    IndexEntry e{get_u32(p), (std::uint64_t{get_u32(p + 8)} << 32) | get_u32(p + 12), get_u32(p + 4)};
    if (!entries.empty() && (e.ms < entries.back().ms || e.offset <= entries.back().offset)) break;
    entries.push_back(e);
  }
  return entries;
}

std::vector<IndexEntry> read_index(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  const std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  return parse_index(bytes).value_or(std::vector<IndexEntry>{});
}

std::optional<IndexEntry> entry_before(std::span<const IndexEntry> index, std::uint32_t ms) {
  auto it = std::upper_bound(index.begin(), index.end(), ms, [](std::uint32_t t, const IndexEntry& e) { return t < e.ms; });
  if (it == index.begin()) return std::nullopt;
  return *std::prev(it);
}

}  // namespace vncgate::fbs
