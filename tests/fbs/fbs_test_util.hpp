// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fbs/format.hpp"
#include "fbs/reader.hpp"
#include "fbs/replay.hpp"
#include "rfb/decoders/decoder_test_util.hpp"

namespace vncgate::fbs::test {

using rfb::test::Wire;

// A private directory under the system temp dir, removed with its files.
class ScratchDir {
 public:
  ScratchDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("vncgate-fbs-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline std::vector<std::uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline Wire& text(Wire& w, std::string_view s) {
  for (char c : s) w.u8(static_cast<unsigned char>(c));
  return w;
}

// ServerInit body (RFC 6143 §7.3.2).
inline Wire& server_init(Wire& w, int width, int height, const rfb::PixelFormat& pf, std::string_view name = "fbs") {
  w.u16(width).u16(height);
  const auto b = pf.serialize();
  w.raw({b.begin(), b.end()});
  w.u32(static_cast<std::uint32_t>(name.size()));
  return text(w, name);
}

// What an RFB 3.8 server without security sends up to and including its ServerInit.
inline Wire hello_38_none(int width, int height) {
  Wire w;
  text(w, "RFB 003.008\n").u8(1).u8(1).u32(0);
  return server_init(w, width, height, rfb::PixelFormat::canonical(), "guest");
}

// A FramebufferUpdate with one Raw rectangle of canonical pixels filled with `colour`.
inline std::vector<std::uint8_t> raw_update(const framebuffer::Rect& r, std::uint32_t colour) {
  Wire w;
  w.u8(0).u8(0).u16(1).u16(r.x).u16(r.y).u16(r.w).u16(r.h).u32(0);
  for (int i = 0; i < r.w * r.h; ++i) w.px(colour);
  return w.bytes;
}

// Frames `data` as one FBS block.
inline void add_block(std::vector<std::uint8_t>& file, const std::vector<std::uint8_t>& data, std::uint32_t ms) {
  put_u32(file, static_cast<std::uint32_t>(data.size()));
  file.insert(file.end(), data.begin(), data.end());
  file.resize(file.size() + padded4(data.size()) - data.size(), 0);
  put_u32(file, ms);
}

// One replayed frame, copied.
struct Captured {
  std::uint32_t ms;
  framebuffer::Rect damage;
  framebuffer::PixelBuffer pixels;
};

// The frames of a replay from `from` (at most `max_frames`).
inline std::vector<Captured> replay_frames(Reader reader, std::uint32_t from = 0, ReplayResult* result = nullptr,
                                           ReplayOptions options = {}, std::size_t max_frames = SIZE_MAX) {
  std::vector<Captured> frames;
  auto r = Replay(std::move(reader), std::move(options)).run(from, UINT32_MAX, [&](const Frame& f) {
    frames.push_back({f.ms, f.damage, f.pixels});
    return frames.size() < max_frames;
  });
  if (result) *result = r;
  return frames;
}

}  // namespace vncgate::fbs::test
