// SPDX-License-Identifier: Apache-2.0
#include "rfb/encoders/deflater.hpp"

#include <isa-l/igzip_lib.h>
#include <zlib.h>

#include <algorithm>
#include <stdexcept>

namespace vncgate::rfb {
namespace {

// Levels 1-3 (the fast band; noVNC and TigerVNC's viewers ask for 2) deflate larger pieces with ISA-L's level 1:
// 3-3.5x zlib level 2's speed on console pictures for -10 % to +8 % of its bytes. Below isal_from_ bytes zlib is
// the faster (ISA-L builds a Huffman table at every sync flush: 40 glyph cells of an update cost it 1.5-2x
// zlib's time). 0 (stored) and 4-9 (a viewer that wants bytes saved) are zlib's alone. docs/performance.md,
// "Deflate with ISA-L".
bool isal_level(int level) { return level >= 1 && level <= 3; }

// Output room for `n` more input bytes: deflate's worst case (stored blocks) plus a sync flush.
std::size_t bound(std::size_t n) { return n + n / 1000 + (n / 16383 + 1) * 5 + 64; }

// Appends all of `data`, compressed, to `out` through `z` (zlib's z_stream or ISA-L's isal_zstream: the same
// next/avail fields), calling `deflate_step` until the input is used and the sync flush written.
template <typename Z, typename Step>
void compress_into(Z& z, std::span<const std::uint8_t> data, std::vector<std::uint8_t>& out, Step deflate_step) {
  z.next_in = const_cast<std::uint8_t*>(data.data());  // neither API is const-correct; both only read
  z.avail_in = static_cast<decltype(z.avail_in)>(data.size());
  do {
    const std::size_t at = out.size();
    const std::size_t room = bound(z.avail_in);
    out.resize(at + room);
    z.next_out = out.data() + at;
    z.avail_out = static_cast<decltype(z.avail_out)>(room);
    deflate_step();
    out.resize(at + (room - z.avail_out));  // keep what was written
  } while (z.avail_in > 0 || z.avail_out == 0);
}

}  // namespace

struct Deflater::Stream {
  virtual ~Stream() = default;
  virtual void restart() = 0;
  virtual void compress(std::span<const std::uint8_t> data, std::vector<std::uint8_t>& out) = 0;
};

namespace {

struct ZlibStream final : Deflater::Stream {
  z_stream z{};
  int level;
  explicit ZlibStream(int level) : level(level) {
    // Negative window bits: raw deflate, 32K window, the default memory level.
    if (deflateInit2(&z, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
      throw std::runtime_error("deflateInit2 failed");
    tune();
  }
  ~ZlibStream() override { deflateEnd(&z); }
  void restart() override {
    if (deflateReset(&z) != Z_OK) throw std::runtime_error("deflateReset failed");
    tune();  // deflateReset goes back to the level's own settings
  }
  // Level 6 (Tight's full-colour floor) follows match chains 32 long instead of 128: on a scrolling xterm's
  // anti-aliased lines, with history, 22 % less time for 1.5 % more bytes (docs/performance.md).
  void tune() {
    if (level == 6 && deflateTune(&z, 8, 16, 258, 32) != Z_OK) throw std::runtime_error("deflateTune failed");
  }
  void compress(std::span<const std::uint8_t> data, std::vector<std::uint8_t>& out) override {
    compress_into(z, data, out, [this] {
      if (deflate(&z, Z_SYNC_FLUSH) == Z_STREAM_ERROR) throw std::runtime_error("deflate failed");
    });
  }
};

struct IsalStream final : Deflater::Stream {
  isal_zstream z{};
  // ISA-L's level 1 works in this buffer (hash table and tokens); "small" bounds a block's tokens at 16 Ki,
  // enough for a Tight rectangle's data (64 KiB at most) without the default's 260 KiB a stream.
  std::vector<std::uint8_t> level_buffer = std::vector<std::uint8_t>(ISAL_DEF_LVL1_SMALL);
  IsalStream() { restart(); }
  void restart() override {
    isal_deflate_init(&z);  // no allocation: resets the history and the state kept in `z`
    z.level = 1;
    z.level_buf = level_buffer.data();
    z.level_buf_size = static_cast<std::uint32_t>(level_buffer.size());
    z.gzip_flag = IGZIP_DEFLATE;  // raw deflate, like the zlib stream above
    z.flush = SYNC_FLUSH;
    z.end_of_stream = 0;
  }
  void compress(std::span<const std::uint8_t> data, std::vector<std::uint8_t>& out) override {
    compress_into(z, data, out, [this] {
      if (isal_deflate(&z) != COMP_OK) throw std::runtime_error("isal_deflate failed");
    });
  }
};

}  // namespace

// zlib's stream (~256 KiB) is made on the first piece it takes: an encoder per viewer holds only what it uses.
Deflater::Deflater(int level) : level_(std::clamp(level, 0, 9)) {}
Deflater::~Deflater() = default;

void Deflater::restart(int level) {
  level = std::clamp(level, 0, 9);
  if (zlib_level(level) != zlib_level(level_)) zlib_.reset();
  level_ = level;
  restart();
}

void Deflater::favour_size_below(std::size_t isal_from, int zlib_level) {
  const int before = this->zlib_level(level_);
  isal_from_ = isal_from;
  zlib_min_ = std::clamp(zlib_level, 0, 9);
  if (this->zlib_level(level_) != before) zlib_.reset();
  restart();
}

void Deflater::restart() { last_ = nullptr; }

// The two engines write one stream: each compress() ends on a sync flush (a byte-aligned block boundary), where
// either may go on. An engine that did not write the previous piece is restarted first: its history would
// not hold the other's data, and its distances back would point at the wrong bytes of the viewer's window.
void Deflater::compress(std::span<const std::uint8_t> data, std::vector<std::uint8_t>& out) {
  Stream* engine = nullptr;
  if (isal_level(level_) && data.size() >= isal_from_) {
    if (!isal_) isal_ = std::make_unique<IsalStream>();
    engine = isal_.get();
  } else {
    if (!zlib_) zlib_ = std::make_unique<ZlibStream>(zlib_level(level_));
    engine = zlib_.get();
  }
  if (engine != last_) engine->restart();
  last_ = engine;
  engine->compress(data, out);
}

}  // namespace vncgate::rfb
