// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace vncgate::rfb {

// The 2-byte zlib header (RFC 1950: deflate, 32K window, no dictionary) a viewer's inflater reads once, before
// the first data of a stream. Deflater output never carries it: the server adds it per viewer.
inline constexpr std::array<std::uint8_t, 2> kZlibHeader{0x78, 0x01};

// One raw deflate stream (no zlib header or trailer): each compress() ends with a sync flush, so the viewer can
// inflate every rectangle as soon as it arrives. restart() begins again with no history: raw deflate blocks that
// never refer back past their start continue any stream that ended on a sync flush, so the same bytes serve a
// viewer whose inflater has seen earlier data and, after kZlibHeader, one whose inflater is fresh. Viewers'
// inflaters are never told to reset (noVNC 1.3's pako loses its window on inflateReset, see TightEncoder).
// At levels 1-3 pieces of 2 KiB (favour_size_below) and more are deflated by ISA-L (faster on them), the rest by zlib.
class Deflater {
 public:
  explicit Deflater(int level = 1);
  ~Deflater();
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  int level() const { return level_; }
  // Forgets the history and compresses at `level` from now on.
  void restart(int level);
  // Forgets the history (cheap: keeps the memory).
  void restart();
  // Appends the compressed form of `data` to `out`.
  void compress(std::span<const std::uint8_t> data, std::vector<std::uint8_t>& out);
  // For data that pays for effort (anti-aliased text in full colour: ISA-L makes twice zlib's bytes of it, zlib
  // level 6 6 % fewer than level 2): pieces under `isal_from` bytes (default 2 KiB) go to zlib, at `zlib_level`
  // at least (a viewer's level 0, no compression, stays 0); bigger ones to ISA-L at levels 1-3 as usual.
  void favour_size_below(std::size_t isal_from, int zlib_level);

  struct Stream;  // zlib's or ISA-L's (deflater.cpp)

 private:
  int level_;
  std::unique_ptr<Stream> zlib_;
  std::unique_ptr<Stream> isal_;  // made on the first piece it takes
  Stream* last_ = nullptr;        // the engine that wrote the last piece since restart()
  std::size_t isal_from_ = 2048;
  int zlib_min_ = 0;  // favour_size_below
  int zlib_level(int level) const { return level == 0 ? 0 : std::max(level, zlib_min_); }
};

}  // namespace vncgate::rfb
