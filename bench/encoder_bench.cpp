// SPDX-License-Identifier: Apache-2.0
// vncgate_encoder_bench: server-side encode throughput, one whole 720x400 frame per iteration (the size of a
// QEMU text console), through the encoders ServerConnection uses, in the 32 bpp format noVNC asks for.
//
//   vncgate_encoder_bench [--benchmark_* flags]
//
// Frames: `text` — 9x16 glyph cells in the 16 VGA colours (what a console shows); `photo` — smooth colour
// fields with noise, thousands of colours (what a desktop wallpaper or video looks like). Counters:
//   Mpx/s    frame pixels encoded per CPU second
//   MB/s     canonical frame bytes (4 per pixel) encoded per CPU second
//   bytes    encoded bytes of one frame (each encode starts its zlib streams afresh: the bytes serve any viewer)
#include <benchmark/benchmark.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <vector>

#include "framebuffer/pixel_buffer.hpp"
#include "rfb/encoders/pixel_encoder.hpp"
#include "rfb/encoders/pixel_writer.hpp"
#include "rfb/encoders/tight_encoder.hpp"
#include "rfb/encoders/zrle_encoder.hpp"

namespace {

using namespace vncgate;
using framebuffer::PixelBuffer;

constexpr int kWidth = 720, kHeight = 400;

std::uint32_t next(std::uint32_t& seed) {
  seed = seed * 1664525u + 1013904223u;
  return seed >> 8;
}

PixelBuffer text_frame() {
  static constexpr framebuffer::Pixel kVga[16] = {0x000000, 0x0000aa, 0x00aa00, 0x00aaaa, 0xaa0000, 0xaa00aa,
                                                  0xaa5500, 0xaaaaaa, 0x555555, 0x5555ff, 0x55ff55, 0x55ffff,
                                                  0xff5555, 0xff55ff, 0xffff55, 0xffffff};
  PixelBuffer fb(kWidth, kHeight);
  std::uint32_t seed = 1;
  for (int cy = 0; cy < kHeight / 16; ++cy)
    for (int cx = 0; cx < kWidth / 9; ++cx) {
      const bool blank = next(seed) % 3 == 0 || cx > 60;  // lines end early, like a shell's
      const framebuffer::Pixel fg = kVga[cy % 5 == 0 ? 10 : 7], bg = kVga[0];
      std::uint32_t glyph = next(seed);
      for (int y = 0; y < 16; ++y)
        for (int x = 0; x < 9; ++x) {
          const bool ink = !blank && y > 2 && y < 14 && x < 8 && ((glyph >> ((x + y * 3) % 24)) & 1);
          fb.row(cy * 16 + y)[cx * 9 + x] = ink ? fg : bg;
        }
    }
  return fb;
}

PixelBuffer photo_frame() {
  PixelBuffer fb(kWidth, kHeight);
  std::uint32_t seed = 7;
  for (int y = 0; y < kHeight; ++y)
    for (int x = 0; x < kWidth; ++x) {
      const int noise = static_cast<int>(next(seed) % 9) - 4;
      auto c = [&](int v) { return static_cast<unsigned>(std::clamp(v + noise, 0, 255)); };
      fb.row(y)[x] = framebuffer::make_pixel(c(x * 255 / kWidth), c(y * 255 / kHeight), c(128 + (x - y) / 6));
    }
  return fb;
}

const PixelBuffer& frame(bool photo) {
  static const PixelBuffer text = text_frame(), picture = photo_frame();
  return photo ? picture : text;
}

template <typename Encode>
void run(benchmark::State& state, bool photo, Encode&& encode) {
  const PixelBuffer& fb = frame(photo);
  const rfb::PixelWriter writer{rfb::PixelFormat::canonical()};
  rfb::EncodedPixels out;
  for (auto _ : state) {
    out = {};
    encode(fb, writer, out);
    benchmark::DoNotOptimize(out.bytes.data());
  }
  const double pixels = static_cast<double>(fb.width()) * fb.height() * static_cast<double>(state.iterations());
  state.counters["Mpx/s"] = benchmark::Counter(pixels / 1e6, benchmark::Counter::kIsRate);
  state.counters["MB/s"] = benchmark::Counter(pixels * 4 / 1e6, benchmark::Counter::kIsRate);
  state.counters["bytes"] = static_cast<double>(out.bytes.size());
}

void bm_raw(benchmark::State& state, bool photo) {
  run(state, photo, [](const PixelBuffer& fb, const rfb::PixelWriter& w, rfb::EncodedPixels& out) {
    for (int y = 0; y < fb.height(); ++y) w.put_pixels(out.bytes, fb.row(y), static_cast<std::size_t>(fb.width()));
  });
}

void bm_zrle(benchmark::State& state, bool photo) {
  rfb::ZrleEncoder zrle;
  run(state, photo, [&](const PixelBuffer& fb, const rfb::PixelWriter& w, rfb::EncodedPixels& out) {
    const auto all = fb.bounds();
    zrle.encode(fb, {&all, 1}, w, out);
  });
}

// Tight at noVNC's defaults (compression 2, JPEG quality 6) or lossless (quality -1).
void bm_tight(benchmark::State& state, bool photo, int quality) {
  rfb::TightEncoder tight;
  tight.configure(2, quality);
  run(state, photo, [&](const PixelBuffer& fb, const rfb::PixelWriter& w, rfb::EncodedPixels& out) {
    const auto all = fb.bounds();
    tight.encode(fb, {&all, 1}, w, out);
  });
}

// A busy console's update: 40 glyph cells scattered over the text frame, 40 rectangles. The gateway compresses
// an update's rectangles in one stream per update ("update"); a zlib reset bit on every rectangle would restart
// the stream for each, with its 2-byte zlib header ("per_rect"). `bytes` compares the two (issue 13: noVNC 1.3
// cannot take a reset followed by a back-reference, so one of the two had to go).
void bm_tight_cells(benchmark::State& state, bool per_rect) {
  const PixelBuffer& fb = frame(false);
  std::vector<framebuffer::Rect> cells;
  std::uint32_t seed = 3;
  for (int i = 0; i < 40; ++i)
    cells.push_back({static_cast<int>(next(seed) % 60) * 9, static_cast<int>(next(seed) % 25) * 16, 9, 16});
  rfb::PixelParams params;
  params.encoding = rfb::Encoding::tight;
  params.compress_level = 2;
  std::size_t bytes = 0;
  for (auto _ : state) {
    bytes = 0;
    if (per_rect) {
      for (const auto& r : cells) {
        const auto one = rfb::encode_pixels(fb, {&r, 1}, params);
        bytes += one.bytes.size() + 2 * static_cast<std::size_t>(std::popcount(one.zlib_streams()));
      }
    } else {
      bytes = rfb::encode_pixels(fb, cells, params).bytes.size();
    }
    benchmark::DoNotOptimize(bytes);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}

BENCHMARK_CAPTURE(bm_tight_cells, update, false)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(bm_tight_cells, per_rect, true)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(bm_raw, text, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bm_zrle, text, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bm_tight, text, false, -1)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bm_tight, text_jpeg6, false, 6)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bm_raw, photo, true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bm_zrle, photo, true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bm_tight, photo, true, -1)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bm_tight, photo_jpeg6, true, 6)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
