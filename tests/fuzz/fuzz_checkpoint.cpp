// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for FBS checkpoints (rfb::ClientConnection::restore_checkpoint, docs/fbs.md §7): a sidecar
// is a file like any other and may be damaged or hostile. Input: u32 N, N bytes of checkpoint state, then server
// messages fed after restoring it (they continue the restored zlib streams). Checked invariants: a state
// either restores or throws ProtocolError; a restored state saves again (the same connection, between messages)
// and that copy restores to the same picture; both connections then take the messages identically.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <span>
#include <string>

#include "rfb/client_connection.hpp"
#include "util/error.hpp"

namespace {

using namespace vncgate;

[[noreturn]] void broken(const char* what) {
  std::fprintf(stderr, "checkpoint invariant broken: %s\n", what);
  std::abort();
}

rfb::ClientOptions options() {
  rfb::ClientOptions o;
  o.max_pixels = 1 << 20;  // memory per input stays small; the limit itself is part of what is tested
  return o;
}

// Feeds `bytes`; the error text when the stream is refused.
std::optional<std::string> feed(rfb::ClientConnection& conn, std::span<const std::uint8_t> bytes) {
  try {
    conn.feed(bytes);
  } catch (const Error& e) {
    return std::string(e.what());
  }
  return std::nullopt;
}

bool same_picture(const rfb::ClientConnection& a, const rfb::ClientConnection& b) {
  const auto& x = a.framebuffer();
  const auto& y = b.framebuffer();
  return x.width() == y.width() && x.height() == y.height() &&
         std::equal(x.pixels().begin(), x.pixels().end(), y.pixels().begin());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 4) return 0;
  const std::size_t n =
      std::min<std::size_t>(size - 4, (std::size_t{data[0]} << 24) | (data[1] << 16) | (data[2] << 8) | data[3]);
  const std::span<const std::uint8_t> state(data + 4, n);
  const std::span<const std::uint8_t> messages(data + 4 + n, size - 4 - n);

  rfb::ClientConnection first(options());
  try {
    first.restore_checkpoint(state);
  } catch (const ProtocolError&) {
    if (first.ready()) broken("a refused checkpoint left the connection ready");
    return 0;
  }
  if (!first.ready() || !first.frame_complete()) broken("a restored connection is not ready");
  const auto saved = first.save_checkpoint();
  if (!saved) broken("a restored connection cannot be saved again");
  rfb::ClientConnection second(options());
  try {
    second.restore_checkpoint(*saved);
  } catch (const ProtocolError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    broken("a saved checkpoint does not restore");
  }
  if (!same_picture(first, second)) broken("the saved copy restores to another picture");
  const auto a = feed(first, messages);
  const auto b = feed(second, messages);
  if (a != b) broken("the two connections took the messages differently");
  if (!a && !same_picture(first, second)) broken("the two connections decoded different pictures");
  return 0;
}
