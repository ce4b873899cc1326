// SPDX-License-Identifier: Apache-2.0
#include "io/zlib_stream.hpp"

#include <isa-l/igzip_lib.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "util/byte_cursor.hpp"
#include "util/error.hpp"

namespace vncgate::io {

// Inflation is ISA-L's (igzip): about twice zlib's speed on RFB's streams, which decoding ZRLE, Tight and Zlib
// spends most of its time in. The stream runs as raw deflate: we read the 2-byte zlib header ourselves, and an
// RFB stream never ends, so the Adler-32 that zlib would compute over every output byte is never checked and
// is not computed. zlib itself only packs a hibernating stream's window.
namespace {

constexpr std::int32_t kWindowBytes = 32768;  // deflate's largest back-reference distance

[[noreturn]] void fail(int rc) {
  const char* what = rc == ISAL_INVALID_BLOCK      ? "invalid block"
                     : rc == ISAL_INVALID_SYMBOL   ? "invalid symbol"
                     : rc == ISAL_INVALID_LOOKBACK ? "distance too far back"
                                                   : "inflate error";
  throw ProtocolError(std::string("zlib: corrupt compressed data (") + what + ")");
}

// RFC 1950 §2.2: deflate, a window of at most 32 KiB, the check bits right, no preset dictionary.
void check_header(std::uint8_t cmf, std::uint8_t flg) {
  if ((cmf & 0x0f) != 8 || (cmf >> 4) > 7 || ((cmf << 8) | flg) % 31 != 0)
    throw ProtocolError("zlib: corrupt compressed data (incorrect header check)");
  if (flg & 0x20) throw ProtocolError("zlib: compressed data needs a preset dictionary");
}

// A packed window (PackedWindow) inflated back to its `size` bytes; nullopt when it does not inflate to exactly
// that many.
std::optional<std::vector<std::uint8_t>> unpack_window(std::span<const std::uint8_t> packed, std::uint32_t size) {
  std::vector<std::uint8_t> window(size);
  auto length = static_cast<uLongf>(size);
  if (size > 0 &&
      (uncompress(window.data(), &length, packed.data(), static_cast<uLong>(packed.size())) != Z_OK || length != size))
    return std::nullopt;
  return window;
}

}  // namespace

struct ZlibInflater::State {
  // ~87 KiB (ISA-L keeps up to 64 KiB of output history and its decoding tables in it): made on first use.
  std::unique_ptr<inflate_state> inflate;
  std::uint8_t header[2] = {};
  int header_bytes = 0;  // of the stream's 2-byte zlib header, read so far
  // While hibernating: the window's last bytes (the dictionary later data refers to), deflated.
  bool hibernating = false;
  std::vector<std::uint8_t> dictionary;
  std::uint32_t dictionary_size = 0;
};

ZlibInflater::ZlibInflater() : state_(std::make_unique<State>()) {}

ZlibInflater::~ZlibInflater() = default;

void ZlibInflater::reset() { *state_ = State{}; }

bool ZlibInflater::hibernating() const { return state_->hibernating; }

std::optional<ZlibInflater::PackedWindow> ZlibInflater::pack_window() const {
  const auto& s = *state_;
  if (!s.inflate) return PackedWindow{s.dictionary, s.dictionary_size};  // hibernating or never used
  const inflate_state& z = *s.inflate;
  // Only between blocks, with no buffered input bits and all output handed out, is the state just the window:
  // where a server's sync flush leaves the stream after every chunk. (ISA-L marks a header it ran out of input
  // before as HDR, with no bytes kept if it had not started on it.)
  const bool between_blocks = z.block_state == ISAL_BLOCK_NEW_HDR || z.block_state == ISAL_BLOCK_HDR;
  if (!between_blocks || z.read_in_length != 0 || z.tmp_in_size != 0 || z.avail_in != 0 ||
      z.tmp_out_valid != z.tmp_out_processed || z.write_overflow_len != 0 || z.copy_overflow_length != 0)
    return std::nullopt;
  // ISA-L keeps the latest output (at least the last 32 KiB of it) at the end of tmp_out_buffer[0, valid).
  const auto size = static_cast<std::uint32_t>(std::min<std::int32_t>(z.tmp_out_valid, kWindowBytes));
  const std::uint8_t* window = z.tmp_out_buffer + (z.tmp_out_valid - size);
  auto packed_size = compressBound(size);
  PackedWindow packed{std::vector<std::uint8_t>(packed_size), size};
  if (compress2(packed.bytes.data(), &packed_size, window, size, 1) != Z_OK) return std::nullopt;
  packed.bytes.resize(packed_size);
  packed.bytes.shrink_to_fit();
  return packed;
}

bool ZlibInflater::hibernate() {
  auto& s = *state_;
  if (!s.inflate) return true;  // never used, or already hibernating: nothing held
  auto packed = pack_window();
  if (!packed) return false;
  s.inflate.reset();
  s.hibernating = true;
  s.dictionary = std::move(packed->bytes);
  s.dictionary_size = packed->size;
  return true;
}

bool ZlibInflater::save(std::vector<std::uint8_t>& out) const {
  const auto packed = pack_window();
  if (!packed) return false;
  const auto& s = *state_;
  append_u8(out, static_cast<std::uint32_t>(s.header_bytes));
  append_u8(out, s.header[0]);
  append_u8(out, s.header[1]);
  append_u32(out, packed->size);
  append_sized(out, packed->bytes);
  return true;
}

void ZlibInflater::restore(ByteCursor& in) {
  State s;
  s.header_bytes = static_cast<int>(in.u8());
  s.header[0] = static_cast<std::uint8_t>(in.u8());
  s.header[1] = static_cast<std::uint8_t>(in.u8());
  s.dictionary_size = in.u32();
  const auto packed = in.sized(compressBound(kWindowBytes));
  if (s.header_bytes > 2 || s.dictionary_size > kWindowBytes || (s.header_bytes < 2 && s.dictionary_size > 0))
    in.fail("holds an impossible zlib stream state");
  if (s.header_bytes == 2) check_header(s.header[0], s.header[1]);
  // Inflated once here so that a bad dictionary is refused now, not in the middle of a later rectangle.
  if (!unpack_window(packed, s.dictionary_size)) in.fail("holds a zlib window that does not inflate");
  s.dictionary.assign(packed.begin(), packed.end());
  s.hibernating = s.header_bytes > 0;
  *state_ = std::move(s);
}

// A hibernated stream resumes where it was: the header is behind it, and the dictionary makes back-references
// into earlier chunks resolve.
void ZlibInflater::ensure_init() {
  auto& s = *state_;
  if (s.inflate) return;
  s.inflate = std::make_unique_for_overwrite<inflate_state>();  // isal_inflate_init sets what is read
  isal_inflate_init(s.inflate.get());
  s.inflate->crc_flag = ISAL_DEFLATE;
  if (!s.hibernating) return;
  auto window = unpack_window(s.dictionary, s.dictionary_size);
  if (!window) throw std::logic_error("zlib: a hibernated stream's dictionary is corrupt");
  if (!window->empty() &&
      isal_inflate_set_dict(s.inflate.get(), window->data(), static_cast<std::uint32_t>(window->size())) != 0)
    throw std::logic_error("zlib: cannot restore a hibernated stream's dictionary");
  s.hibernating = false;
  std::vector<std::uint8_t>().swap(s.dictionary);
}

// Consumes what is left of the zlib header from the front of `in`.
std::span<const std::uint8_t> ZlibInflater::skip_header(std::span<const std::uint8_t> in) {
  auto& s = *state_;
  while (s.header_bytes < 2 && !in.empty()) {
    s.header[s.header_bytes++] = in.front();
    in = in.subspan(1);
    if (s.header_bytes == 2) check_header(s.header[0], s.header[1]);
  }
  return in;
}

// One isal_inflate call over all of `in` into `out`; returns the bytes written.
std::size_t ZlibInflater::run(std::span<const std::uint8_t> in, std::span<std::uint8_t> out) {
  auto& z = *state_->inflate;
  z.next_in = const_cast<std::uint8_t*>(in.data());
  z.avail_in = static_cast<std::uint32_t>(in.size());
  z.next_out = out.data();
  z.avail_out = static_cast<std::uint32_t>(out.size());
  const int rc = isal_inflate(&z);
  if (rc < 0) fail(rc);
  return out.size() - z.avail_out;
}

bool ZlibInflater::output_pending() const {
  const auto& z = *state_->inflate;
  return z.avail_in != 0 || z.tmp_out_valid != z.tmp_out_processed;
}

void ZlibInflater::inflate_exact(std::span<const std::uint8_t> in, std::span<std::uint8_t> out) {
  ensure_init();
  in = skip_header(in);
  const std::size_t got = state_->header_bytes == 2 ? run(in, out) : 0;
  if (got != out.size())
    throw ProtocolError("zlib: compressed data ended " + std::to_string(out.size() - got) + " bytes short of the " +
                        std::to_string(out.size()) + " the rectangle needs");
  if (output_pending()) {
    // Servers end each chunk with a sync flush; leftover input means it produces more than the rectangle.
    auto& z = *state_->inflate;
    std::uint8_t extra;
    if (run({z.next_in, z.avail_in}, {&extra, 1}) != 0)
      throw ProtocolError("zlib: compressed data longer than the rectangle");
  }
}

void ZlibInflater::inflate_all(std::span<const std::uint8_t> in, std::vector<std::uint8_t>& out, std::size_t max_out) {
  ensure_init();
  in = skip_header(in);
  if (state_->header_bytes < 2) return;
  auto& z = *state_->inflate;
  for (bool first = true;; first = false) {
    const std::size_t used = out.size();
    if (used >= max_out) {
      if (!output_pending()) break;
      throw ProtocolError("zlib: decompressed data exceeds " + std::to_string(max_out) + " bytes");
    }
    const std::size_t room = std::min<std::size_t>(std::max<std::size_t>(in.size() * 4, 65536), max_out - used);
    out.resize(used + room);
    const auto rest = first ? in : std::span<const std::uint8_t>(z.next_in, z.avail_in);
    out.resize(used + run(rest, {out.data() + used, room}));
    if (!output_pending() || z.block_state == ISAL_BLOCK_FINISH) break;
  }
}

}  // namespace vncgate::io
