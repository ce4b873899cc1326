// SPDX-License-Identifier: Apache-2.0
#include "io/zlib_stream.hpp"

#include <zlib.h>

#include <string>

#include "util/error.hpp"

namespace vncgate::io {

struct ZlibInflater::State {
  z_stream z{};
  bool initialised = false;
};

ZlibInflater::ZlibInflater() : state_(std::make_unique<State>()) {}

ZlibInflater::~ZlibInflater() {
  if (state_->initialised) inflateEnd(&state_->z);
}

void ZlibInflater::reset() {
  if (state_->initialised) inflateEnd(&state_->z);
  state_->z = z_stream{};
  state_->initialised = false;
}

namespace {

void ensure_init(z_stream& z, bool& initialised) {
  if (initialised) return;
  if (inflateInit(&z) != Z_OK) throw ProtocolError("zlib: cannot initialise inflate stream");
  initialised = true;
}

[[noreturn]] void fail(const z_stream& z, int rc) {
  throw ProtocolError(std::string("zlib: corrupt compressed data (") + (z.msg ? z.msg : zError(rc)) + ")");
}

}  // namespace

void ZlibInflater::inflate_exact(std::span<const std::uint8_t> in, std::span<std::uint8_t> out) {
  auto& z = state_->z;
  ensure_init(z, state_->initialised);
  z.next_in = const_cast<Bytef*>(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  while (z.avail_out > 0) {
    const int rc = ::inflate(&z, Z_SYNC_FLUSH);
    if (rc == Z_BUF_ERROR || rc == Z_STREAM_END) break;  // input exhausted (or stream over) before enough output
    if (rc != Z_OK) fail(z, rc);
  }
  if (z.avail_out != 0)
    throw ProtocolError("zlib: compressed data ended " + std::to_string(z.avail_out) + " bytes short of the " +
                        std::to_string(out.size()) + " the rectangle needs");
  if (z.avail_in != 0) {
    // Servers end each chunk with a sync flush; leftover input means it produces more than the rectangle.
    std::uint8_t extra;
    z.next_out = &extra;
    z.avail_out = 1;
    const int rc = ::inflate(&z, Z_SYNC_FLUSH);
    if (rc == Z_OK && z.avail_out == 0) throw ProtocolError("zlib: compressed data longer than the rectangle");
    if (rc != Z_OK && rc != Z_BUF_ERROR && rc != Z_STREAM_END) fail(z, rc);
  }
}

void ZlibInflater::inflate_all(std::span<const std::uint8_t> in, std::vector<std::uint8_t>& out, std::size_t max_out) {
  auto& z = state_->z;
  ensure_init(z, state_->initialised);
  z.next_in = const_cast<Bytef*>(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  for (;;) {
    const std::size_t used = out.size();
    if (used >= max_out) {
      if (z.avail_in == 0) break;
      throw ProtocolError("zlib: decompressed data exceeds " + std::to_string(max_out) + " bytes");
    }
    const std::size_t room = std::min<std::size_t>(std::max<std::size_t>(in.size() * 4, 65536), max_out - used);
    out.resize(used + room);
    z.next_out = out.data() + used;
    z.avail_out = static_cast<uInt>(room);
    const int rc = ::inflate(&z, Z_SYNC_FLUSH);
    out.resize(used + (room - z.avail_out));
    if (rc == Z_STREAM_END) break;
    if (rc == Z_BUF_ERROR) break;  // no progress possible: all input consumed
    if (rc != Z_OK) fail(z, rc);
    if (z.avail_in == 0 && z.avail_out != 0) break;
  }
}

}  // namespace vncgate::io
