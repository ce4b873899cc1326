// SPDX-License-Identifier: Apache-2.0
#include "io/zlib_stream.hpp"

#include <zlib.h>

#include <stdexcept>
#include <string>

#include "util/error.hpp"

namespace vncgate::io {

namespace {

void init(z_stream& z, int window_bits) {
  if (inflateInit2(&z, window_bits) != Z_OK) throw ProtocolError("zlib: cannot initialise inflate stream");
}

[[noreturn]] void fail(const z_stream& z, int rc) {
  throw ProtocolError(std::string("zlib: corrupt compressed data (") + (z.msg ? z.msg : zError(rc)) + ")");
}

}  // namespace

struct ZlibInflater::State {
  z_stream z{};
  bool initialised = false;
  // While hibernating: the window's last bytes (the dictionary later data refers to), deflated.
  bool hibernating = false;
  std::vector<std::uint8_t> dictionary;
  uInt dictionary_size = 0;
};

ZlibInflater::ZlibInflater() : state_(std::make_unique<State>()) {}

ZlibInflater::~ZlibInflater() {
  if (state_->initialised) inflateEnd(&state_->z);
}

void ZlibInflater::reset() {
  if (state_->initialised) inflateEnd(&state_->z);
  *state_ = State{};
}

bool ZlibInflater::hibernating() const { return state_->hibernating; }

bool ZlibInflater::hibernate() {
  auto& s = *state_;
  if (!s.initialised) return true;  // never used, or already hibernating: nothing held
  // zlib's data_type is exactly 128 when inflate() stopped at the start of a block header, with no
  // unused bits and not after the final block: the state is then just the window.
  if (s.z.data_type != 128) return false;
  std::vector<std::uint8_t> window(32768);
  uInt size = static_cast<uInt>(window.size());
  if (inflateGetDictionary(&s.z, window.data(), &size) != Z_OK) return false;
  auto packed_size = compressBound(size);
  std::vector<std::uint8_t> packed(packed_size);
  if (compress2(packed.data(), &packed_size, window.data(), size, 1) != Z_OK) return false;
  packed.resize(packed_size);
  packed.shrink_to_fit();
  inflateEnd(&s.z);
  s.z = z_stream{};
  s.initialised = false;
  s.hibernating = true;
  s.dictionary = std::move(packed);
  s.dictionary_size = size;
  return true;
}

// A hibernated stream resumes in raw mode: its zlib header is behind it and RFB streams never end, so
// there is no trailer to check; the dictionary makes back-references into earlier chunks resolve.
void ZlibInflater::ensure_init() {
  auto& s = *state_;
  if (s.initialised) return;
  if (!s.hibernating) {
    init(s.z, 15);
    s.initialised = true;
    return;
  }
  std::vector<std::uint8_t> window(s.dictionary_size);
  auto size = static_cast<uLongf>(window.size());
  if (uncompress(window.data(), &size, s.dictionary.data(), s.dictionary.size()) != Z_OK || size != window.size())
    throw std::logic_error("zlib: a hibernated stream's dictionary is corrupt");
  init(s.z, -15);
  s.initialised = true;
  if (size > 0 && inflateSetDictionary(&s.z, window.data(), static_cast<uInt>(size)) != Z_OK)
    throw std::logic_error("zlib: cannot restore a hibernated stream's dictionary");
  s.hibernating = false;
  std::vector<std::uint8_t>().swap(s.dictionary);
}

void ZlibInflater::inflate_exact(std::span<const std::uint8_t> in, std::span<std::uint8_t> out) {
  auto& z = state_->z;
  ensure_init();
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
  ensure_init();
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
