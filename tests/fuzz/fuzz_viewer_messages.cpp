// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for rfb::ServerConnection: what a hostile viewer can send the gateway.
//
// Input: viewer bytes. Normally they follow a synthetic handshake (RFB 3.8, security None, ClientInit); an
// input that itself starts with "RFB 00" is the whole viewer stream, so the handshake and the VNC
// Authentication path (every other input uses a password) are fuzzed too. After the input the server answers
// the viewer's requests from a 64x48 framebuffer, resized halfway for inputs with an odd length.
//
// Each input runs twice, fed whole and in 3-byte chunks: both runs must end the same way (same error or none,
// same listener events). Malformed input may only throw vncgate::Error (ProtocolError); anything else aborts.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "framebuffer/pixel_buffer.hpp"
#include "rfb/server_connection.hpp"
#include "util/error.hpp"

namespace {

using namespace vncgate;

struct Recorder : rfb::ServerListener {
  std::vector<std::string> events;
  void on_key(std::uint32_t k, bool d) override { events.push_back("k" + std::to_string(k) + (d ? "d" : "u")); }
  void on_qemu_key(std::uint32_t k, std::uint32_t c, bool d) override {
    events.push_back("q" + std::to_string(k) + "/" + std::to_string(c) + (d ? "d" : "u"));
  }
  void on_pointer(int x, int y, std::uint8_t b) override {
    if (x < 0 || y < 0 || x > 0xffff || y > 0xffff) std::abort();
    events.push_back("p" + std::to_string(x) + "," + std::to_string(y) + "," + std::to_string(b));
  }
  void on_cut_text(const std::string& t) override { events.push_back("c" + std::to_string(t.size())); }
  void on_set_desktop_size(int w, int h) override {
    if (w <= 0 || h <= 0 || w > 0xffff || h > 0xffff) std::abort();
    events.push_back("s" + std::to_string(w) + "x" + std::to_string(h));
  }
};

struct Outcome {
  std::string error;
  std::vector<std::string> events;
  bool operator==(const Outcome&) const = default;
};

Outcome run(std::span<const std::uint8_t> input, std::size_t chunk, bool password) {
  Outcome out;
  Recorder rec;
  framebuffer::PixelBuffer fb(64, 48);
  rfb::ServerOptions options;
  if (password) {
    options.password = "secret";
    options.challenge = [] { return std::array<std::uint8_t, 16>{}; };
  }
  rfb::ServerConnection conn(std::move(options), fb.width(), fb.height(), &rec);
  try {
    for (std::size_t at = 0; at < input.size(); at += chunk) {
      conn.feed(input.subspan(at, std::min(chunk, input.size() - at)));
      conn.take_output();
    }
    conn.send_update(fb);
    if (input.size() % 2 == 1) {
      fb.resize(80, 30);
      conn.framebuffer_resized(80, 30);
    }
    conn.send_update(fb);
    conn.take_output();
  } catch (const Error& e) {
    out.error = e.what();
  }
  out.events = std::move(rec.events);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::uint8_t> input;
  const bool whole_stream = size >= 6 && std::string(reinterpret_cast<const char*>(data), 6) == "RFB 00";
  if (!whole_stream) {
    const std::string hello = "RFB 003.008\n";
    input.assign(hello.begin(), hello.end());
    input.push_back(1);  // security None
    input.push_back(1);  // ClientInit, shared
  }
  input.insert(input.end(), data, data + size);
  const Outcome whole = run(input, input.size(), whole_stream);
  const Outcome chunked = run(input, 3, whole_stream);
  if (!(whole == chunked)) {
    std::fprintf(stderr, "whole and chunked runs differ: '%s' vs '%s', %zu vs %zu events\n", whole.error.c_str(),
                 chunked.error.c_str(), whole.events.size(), chunked.events.size());
    std::abort();
  }
  return 0;
}
