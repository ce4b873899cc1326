// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for rfb::ClientConnection: server-to-client messages after a fixed handshake.
//
// Input: server bytes. Normally they follow a synthetic RFB 3.8 / security None handshake and a 64x48
// canonical ServerInit, with every encoding requested. An input that itself starts with "RFB 00" is a whole
// server stream (handshake included: the body of a vncgate_capture file), so real captures are seeds and
// the handshake parser is fuzzed too.
//
// Each input runs twice, once fed whole and once in small chunks; both runs must end the same way (same
// error or none, same framebuffer, same updates). That checks the restore-point model: needing more bytes
// is never an error and never changes what is parsed. Listener events check their own invariants.
// With VNCGATE_FUZZ_VERBOSE=1 each input reports its updates and how it ended (seed checks).
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "rfb/client_connection.hpp"
#include "util/error.hpp"

namespace {

using namespace vncgate;
using vncgate::rfb::Encoding;

[[noreturn]] void broken(const std::string& what) {
  std::fprintf(stderr, "client connection invariant broken: %s\n", what.c_str());
  std::abort();
}

std::vector<std::uint8_t> synthetic_handshake() {
  std::vector<std::uint8_t> b;
  const std::string version = "RFB 003.008\n";
  b.insert(b.end(), version.begin(), version.end());
  b.insert(b.end(), {1, 1});          // one security type: None
  b.insert(b.end(), {0, 0, 0, 0});    // SecurityResult OK
  b.insert(b.end(), {0, 64, 0, 48});  // ServerInit 64x48
  const auto pf = rfb::PixelFormat::canonical().serialize();
  b.insert(b.end(), pf.begin(), pf.end());
  b.insert(b.end(), {0, 0, 0, 4, 'f', 'u', 'z', 'z'});
  return b;
}

rfb::ClientOptions options() {
  rfb::ClientOptions o;
  o.password = "fuzzpass";  // lets whole-stream inputs take the VNC Authentication path
  o.encodings = rfb::default_encodings();
  for (auto e :
       {Encoding::x_cursor, Encoding::qemu_pointer_motion_change, Encoding::qemu_audio, Encoding::vmware_led_state,
        Encoding::xvp, Encoding::fence, Encoding::continuous_updates, rfb::quality_level(8)})
    o.encodings.push_back(e);
  return o;
}

class CheckingListener : public rfb::ClientListener {
 public:
  const rfb::ClientConnection* conn = nullptr;
  std::uint64_t events = 0;

  void on_update(const framebuffer::Rect& damage) override {
    ++events;
    const auto& fb = conn->framebuffer();
    if (!damage.empty() && !damage.inside(fb.width(), fb.height()))
      broken("update damage " + std::to_string(damage.w) + "x" + std::to_string(damage.h) + "+" +
             std::to_string(damage.x) + "+" + std::to_string(damage.y) + " outside the framebuffer");
  }
  void on_resize(int width, int height) override {
    ++events;
    if (conn->framebuffer().width() != width || conn->framebuffer().height() != height)
      broken("on_resize reports a size the framebuffer does not have");
  }
  void on_cursor() override {
    ++events;
    const auto& c = conn->cursor();
    const auto n = static_cast<std::size_t>(c.width) * static_cast<std::size_t>(c.height);
    if (c.pixels.size() != n || c.mask.size() != n) broken("cursor pixels/mask do not match its size");
    if (n && (c.hotspot_x < 0 || c.hotspot_x >= c.width || c.hotspot_y < 0 || c.hotspot_y >= c.height))
      broken("cursor hotspot outside the cursor");
    // What a recorder does with it: composite at the pointer, clipped (exercises composite()).
    const auto [x, y] = conn->pointer();
    framebuffer::composite(scratch_, c, x % 80 - 8, y % 60 - 6);
  }

 private:
  framebuffer::PixelBuffer scratch_{64, 48};
};

struct Outcome {
  std::optional<std::string> error;
  std::uint64_t updates = 0;
  std::uint64_t events = 0;
  int width = 0, height = 0;
  unsigned long crc = 0;  // of the framebuffer, by zlib (uninstrumented, and no copy of a large framebuffer)
};

Outcome run(std::span<const std::uint8_t> input, bool whole_stream, bool chunked) {
  static const auto kHandshake = synthetic_handshake();
  CheckingListener listener;
  rfb::ClientConnection conn(options(), &listener);
  listener.conn = &conn;
  Outcome out;
  try {
    if (!whole_stream) conn.feed(kHandshake);
    if (!chunked) {
      conn.feed(input);
    } else {
      // Chunk sizes 1..64 from a small LCG seeded by the input: deterministic, cuts everywhere.
      std::uint32_t state = static_cast<std::uint32_t>(input.size()) * 2654435761u + 1;
      for (std::size_t pos = 0; pos < input.size();) {
        state = state * 1664525u + 1013904223u;
        const std::size_t n = std::min<std::size_t>(1 + (state >> 26), input.size() - pos);
        conn.feed(input.subspan(pos, n));
        pos += n;
        (void)conn.take_output();
      }
    }
  } catch (const vncgate::Error& e) {
    out.error = e.what();
  }
  out.updates = conn.updates_completed();
  out.events = listener.events;
  out.width = conn.framebuffer().width();
  out.height = conn.framebuffer().height();
  const auto pixels = conn.framebuffer().pixels();
  out.crc = crc32_z(0, reinterpret_cast<const Bytef*>(pixels.data()), pixels.size_bytes());
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input{data, size};
  const bool whole_stream = size >= 6 && std::memcmp(data, "RFB 00", 6) == 0;
  // One connection at a time: a hostile DesktopSize may legitimately allocate a large framebuffer.
  const Outcome whole = run(input, whole_stream, false);
  const Outcome chunked = run(input, whole_stream, true);
  if (whole.error != chunked.error)
    broken("fed whole: " + whole.error.value_or("no error") + "; fed in chunks: " + chunked.error.value_or("no error"));
  if (whole.updates != chunked.updates || whole.events != chunked.events)
    broken("whole and chunked feeding saw different numbers of updates or events");
  if (whole.width != chunked.width || whole.height != chunked.height || whole.crc != chunked.crc)
    broken("whole and chunked feeding produced different framebuffers");
  static const bool verbose = std::getenv("VNCGATE_FUZZ_VERBOSE") != nullptr;
  if (verbose)
    std::fprintf(stderr, "fuzz: %llu updates, %dx%d, %s\n", static_cast<unsigned long long>(whole.updates), whole.width,
                 whole.height, whole.error ? ("error: " + *whole.error).c_str() : "no error");
  return 0;
}
