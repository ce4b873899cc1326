// SPDX-License-Identifier: Apache-2.0
#include "rfb/encoders/deflater.hpp"

#include <zlib.h>

#include <algorithm>
#include <stdexcept>

namespace vncgate::rfb {

struct Deflater::Stream {
  z_stream z{};
  explicit Stream(int level) {
    if (deflateInit(&z, level) != Z_OK) throw std::runtime_error("deflateInit failed");
  }
  ~Stream() { deflateEnd(&z); }
};

Deflater::Deflater(int level) : stream_(std::make_unique<Stream>(std::clamp(level, 0, 9))), level_(level) {}
Deflater::~Deflater() = default;

void Deflater::reset(int level) {
  level_ = std::clamp(level, 0, 9);
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
