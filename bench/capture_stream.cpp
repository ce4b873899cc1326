// SPDX-License-Identifier: Apache-2.0
// vncgate_capture: records what a VNC server sends for a while into a VGCAP1 file (bench/capture_file.hpp),
// for decoder benchmarks and fuzz seeds. Security None servers only.
//
//   vncgate_capture vnc://127.0.0.1:5921 --encodings tight --seconds 5 -o tight.vgcap [--rects-dir seeds/]
//
// It asks for incremental updates back to back (as fast as the server answers), so a capture holds as much
// decoding work as the server can produce in that time. With --rects-dir, each rectangle's payload also
// becomes a decoder fuzz seed in the layout of tests/fuzz/fuzz_input.hpp.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "capture_file.hpp"
#include "rfb/blocking_client.hpp"
#include "util/error.hpp"

namespace {

using namespace vncgate;
using namespace std::chrono;
namespace fs = std::filesystem;
using rfb::Encoding;

void put_u16(std::vector<std::uint8_t>& b, unsigned v) { b.insert(b.end(), {std::uint8_t(v >> 8), std::uint8_t(v)}); }
void put_u32(std::vector<std::uint8_t>& b, std::uint32_t v) {
  put_u16(b, v >> 16);
  put_u16(b, v & 0xffff);
}

// The server's handshake bytes, rebuilt from what the connection learnt. BlockingClient runs the handshake
// in its constructor, before a tap can be installed; for a security-None server these bytes are what it
// sent, up to the security type list (we write the one type we used).
std::vector<std::uint8_t> handshake_bytes(const rfb::ServerInit& init) {
  if (init.security_type != 1)
    throw UsageError("capture needs a security None server (this one used type " + std::to_string(init.security_type) +
                     ")");
  std::vector<std::uint8_t> b;
  const std::string version = "RFB 003.00" + std::to_string(init.protocol_minor) + "\n";
  b.insert(b.end(), version.begin(), version.end());
  if (init.protocol_minor == 3) {
    put_u32(b, 1);
  } else {
    b.insert(b.end(), {1, 1});
    if (init.protocol_minor >= 8) put_u32(b, 0);  // SecurityResult OK (3.8 sends it for None too)
  }
  put_u16(b, static_cast<unsigned>(init.width));
  put_u16(b, static_cast<unsigned>(init.height));
  const auto pf = init.format.serialize();
  b.insert(b.end(), pf.begin(), pf.end());
  put_u32(b, static_cast<std::uint32_t>(init.name.size()));
  b.insert(b.end(), init.name.begin(), init.name.end());
  return b;
}

// Writes rect payloads as decoder fuzz seeds `<encoding>-<n>.bin`. Stateless encodings give one record per
// seed. Zlib, Tight and ZRLE continue one zlib stream per connection, so a rect only decodes after all earlier
// ones: their seeds are prefixes of the encoding's whole record stream (after 1, 2, 4, 8... rects), written
// while every rect so far fits the fuzz framebuffer and the prefix stays under the byte cap.
class SeedWriter {
 public:
  SeedWriter(fs::path dir, std::uint8_t selector, int max_seeds, std::size_t max_bytes)
      : dir_(std::move(dir)), selector_(selector), max_seeds_(max_seeds), max_bytes_(max_bytes) {
    fs::create_directories(dir_);
  }

  void on_rect(Encoding e, const framebuffer::Rect& r, std::span<const std::uint8_t> payload) {
    auto& s = state_[static_cast<std::int32_t>(e)];
    if (s.done) return;
    // Back to wire bytes: Zlib and ZRLE gather the data without its u32 length (RFC 6143 §7.7.6).
    std::vector<std::uint8_t> wire;
    if (e == Encoding::zlib || e == Encoding::zrle) put_u32(wire, static_cast<std::uint32_t>(payload.size()));
    wire.insert(wire.end(), payload.begin(), payload.end());
    if (e == Encoding::zlib || e == Encoding::tight || e == Encoding::zrle) {
      if (!fuzz::fits(r)) return void(s.done = true);
      if (s.stream.empty()) s.stream.push_back(selector_);
      fuzz::append_record(s.stream, r, wire);
      if (s.stream.size() > max_bytes_) return void(s.done = true);
      ++s.rects;
      if ((s.rects & (s.rects - 1)) == 0) write(e, s, s.stream);
      return;
    }
    if (!fuzz::fits(r)) return;
    std::vector<std::uint8_t> seed{selector_};
    fuzz::append_record(seed, r, wire);
    if (seed.size() <= max_bytes_ &&
        s.seen.insert(std::hash<std::string_view>{}({reinterpret_cast<const char*>(seed.data()), seed.size()})).second)
      write(e, s, seed);
  }

  // The longest stream prefix, when it was not written as a power of two already.
  void finish() {
    for (auto& [e, s] : state_)
      if (!s.done && s.rects > 0 && (s.rects & (s.rects - 1)) != 0) write(static_cast<Encoding>(e), s, s.stream);
  }

  int written() const { return total_; }

 private:
  struct State {
    std::vector<std::uint8_t> stream;
    std::size_t rects = 0;
    int written = 0;
    bool done = false;
    std::set<std::size_t> seen;
  };

  void write(Encoding e, State& s, const std::vector<std::uint8_t>& bytes) {
    const auto path =
        dir_ / (rfb::encoding_name(static_cast<std::int32_t>(e)) + "-" + std::to_string(s.written) + ".bin");
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    ++total_;
    if (++s.written >= max_seeds_) s.done = true;
  }

  fs::path dir_;
  std::uint8_t selector_;
  int max_seeds_;
  std::size_t max_bytes_;
  std::map<std::int32_t, State> state_;
  int total_ = 0;
};

int run(int argc, char** argv) {
  CLI::App app{"Record a VNC server's stream (security None) into a VGCAP1 capture file"};
  std::string target, encodings = "tight", pixel_format = "canonical", output, rects_dir;
  double seconds = 5;
  int quality = -1, max_seeds = 40;
  std::size_t max_seed_bytes = 64 * 1024;
  app.add_option("target", target, "vnc://host:port (security None)")->required();
  app.add_option("--encodings", encodings,
                 "encodings to request, e.g. tight or copyrect,raw; pseudo-encodings "
                 "(cursor, desktop size, ...) are always added");
  app.add_option("--pixel-format", pixel_format,
                 "canonical, rgb565, rgb565be, bgr233, colourmap8, canonical-be or native");
  app.add_option("--seconds", seconds, "how long to record")->check(CLI::PositiveNumber);
  app.add_option("--quality", quality, "also request JPEG quality level 0-9 (Tight JPEG)")->check(CLI::Range(0, 9));
  app.add_option("-o,--output", output, "capture file to write")->required();
  app.add_option("--rects-dir", rects_dir, "also write each rect as a decoder fuzz seed <encoding>-<n>.bin here");
  app.add_option("--max-seeds", max_seeds, "seed files per encoding")->check(CLI::PositiveNumber);
  app.add_option("--max-seed-bytes", max_seed_bytes, "largest seed file");
  CLI11_PARSE(app, argc, argv);

  std::string error;
  if (!io::parse_url(target, &error)) throw UsageError("bad target '" + target + "': " + error);
  auto list = rfb::parse_encoding_list(encodings, &error);
  if (!list) throw UsageError("--encodings: " + error);
  for (auto e : rfb::pseudo_encodings()) list->push_back(e);
  if (quality >= 0) list->push_back(rfb::quality_level(quality));
  bench::CaptureHeader header{*list, pixel_format};
  auto options = bench::client_options(header);
  if (!options) throw UsageError("unknown --pixel-format " + pixel_format);

  std::ofstream out(output, std::ios::binary | std::ios::trunc);
  if (!out) throw UsageError("cannot write " + output);
  io::Endpoint endpoint;
  endpoint.url = target;
  rfb::BlockingClient client(endpoint, *options, milliseconds(10000));
  auto& conn = client.connection();
  const auto text = bench::header_text(header);
  const auto hello = handshake_bytes(conn.server_init());
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.write(reinterpret_cast<const char*>(hello.data()), static_cast<std::streamsize>(hello.size()));
  std::uint64_t bytes = hello.size();
  conn.set_tap([&](std::span<const std::uint8_t> b) {
    out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    bytes += b.size();
  });
  std::optional<SeedWriter> seeds;
  if (!rects_dir.empty()) {
    const auto selector = fuzz::format_selector(pixel_format);
    if (!selector) throw UsageError("--rects-dir needs one of the fuzz pixel formats, not " + pixel_format);
    seeds.emplace(rects_dir, *selector, max_seeds, max_seed_bytes);
    conn.set_rect_observer([&](Encoding e, const framebuffer::Rect& r, std::span<const std::uint8_t> payload) {
      seeds->on_rect(e, r, payload);
    });
  }

  const auto end = steady_clock::now() + duration_cast<milliseconds>(duration<double>(seconds));
  for (auto now = steady_clock::now(); now < end; now = steady_clock::now())
    client.next_update(std::min(milliseconds(100), duration_cast<milliseconds>(end - now) + milliseconds(1)));
  conn.set_tap(nullptr);
  conn.set_rect_observer(nullptr);
  client.close();
  out.close();
  if (!out) throw IoError("writing " + output + " failed");

  const auto& init = conn.server_init();
  std::fprintf(stderr, "%s: %dx%d '%s', %llu updates, %llu bytes\n", output.c_str(), init.width, init.height,
               init.name.c_str(), static_cast<unsigned long long>(conn.updates_completed()),
               static_cast<unsigned long long>(bytes));
  for (const auto& [e, s] : conn.stats())
    if (s.pixels)
      std::fprintf(stderr, "  %-10s %8llu rects %12llu px %12llu bytes\n", rfb::encoding_name(e).c_str(),
                   static_cast<unsigned long long>(s.rects), static_cast<unsigned long long>(s.pixels),
                   static_cast<unsigned long long>(s.bytes));
  if (seeds) {
    seeds->finish();
    std::fprintf(stderr, "  %d seed files in %s\n", seeds->written(), rects_dir.c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const vncgate::Error& e) {
    std::fprintf(stderr, "vncgate_capture: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vncgate_capture: %s\n", e.what());
    return 1;
  }
}
