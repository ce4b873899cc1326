// SPDX-License-Identifier: Apache-2.0
#include "rfb/encoders/deflater.hpp"

#include <zlib.h>

#include <algorithm>
#include <stdexcept>

namespace vncgate::rfb {

struct Deflater::Stream {
  z_stream z{};
  explicit Stream(int level) {
    // Negative window bits: raw deflate, 32K window, the default memory level.
    if (deflateInit2(&z, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
      throw std::runtime_error("deflateInit2 failed");
  }
  ~Stream() { deflateEnd(&z); }
};

Deflater::Deflater(int level) : level_(std::clamp(level, 0, 9)), stream_(std::make_unique<Stream>(level_)) {}
Deflater::~Deflater() = default;

void Deflater::restart(int level) {
  level = std::clamp(level, 0, 9);
  if (level == level_) return restart();
  level_ = level;
  stream_ = std::make_unique<Stream>(level_);
}

void Deflater::restart() {
  if (deflateReset(&stream_->z) != Z_OK) throw std::runtime_error("deflateReset failed");
}

void Deflater::compress(std::span<const std::uint8_t> data, std::vector<std::uint8_t>& out) {
  auto& z = stream_->z;
  z.next_in = const_cast<std::uint8_t*>(data.data());  // zlib's API is not const-correct; it only reads
  z.avail_in = static_cast<uInt>(data.size());
  do {
    const std::size_t at = out.size();
    const std::size_t room = deflateBound(&z, z.avail_in) + 64;
    out.resize(at + room);
    z.next_out = out.data() + at;
    z.avail_out = static_cast<uInt>(room);
    if (deflate(&z, Z_SYNC_FLUSH) == Z_STREAM_ERROR) throw std::runtime_error("deflate failed");
    out.resize(at + (room - z.avail_out));  // keep what deflate wrote
  } while (z.avail_in > 0 || z.avail_out == 0);
}

}  // namespace vncgate::rfb
