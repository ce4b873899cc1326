// SPDX-License-Identifier: Apache-2.0
// vncgate_framebuffer_bench: PixelBuffer::compact()/expand(), what an idle gateway session pays to hibernate
// its picture and to wake it up again; PixelBuffer::copy() on a terminal's scroll, what every CopyRect of a
// scrolling console costs the gateway, the recorder and `convert`.
//
//   vncgate_framebuffer_bench [--benchmark_* flags]
//
// Pictures (tests/framebuffer/test_frames.hpp): `text` — a 1280x800 console of 8x16 glyphs, lines of random
// length; `noise` — 640x480 random pixels, the incompressible worst case. Counters:
//   bytes    heap bytes of the compacted picture (compressed data + palette)
//   MB/s     canonical picture bytes (4 per pixel) processed per CPU second
// scroll/rows: one line's scroll of a 1280x800 xterm as Xvnc sends it (7 CopyRects, 17 rows up, cut around the
// cursor), piece by piece; scroll/batch: the same pieces in one step (CopyBatch, what ClientConnection does with
// the CopyRects of one update); scroll/memmove: the same pieces moved pixel row by pixel row (what copy() did before it
// moved rows); scroll/rows_then_pixels: the scroll plus pixels() (rows put back in order), as often as a recorder at 10
// fps asks per two scrolls of a terminal at 20 lines a second.
#include <benchmark/benchmark.h>

#include <cstring>

#include "framebuffer/copy_batch.hpp"
#include "framebuffer/pixel_buffer.hpp"
#include "framebuffer/test_frames.hpp"

namespace {

using vncgate::framebuffer::PixelBuffer;
namespace pictures = vncgate::framebuffer::test;

const PixelBuffer& picture(bool noise) {
  static const PixelBuffer text = pictures::text_console(1280, 800), random = pictures::noise(640, 480);
  return noise ? random : text;
}

void report(benchmark::State& state, const PixelBuffer& fb, std::size_t packed) {
  const double bytes = static_cast<double>(fb.width()) * fb.height() * 4 * static_cast<double>(state.iterations());
  state.counters["MB/s"] = benchmark::Counter(bytes / 1e6, benchmark::Counter::kIsRate);
  state.counters["bytes"] = static_cast<double>(packed);
}

void bm_compact(benchmark::State& state, bool noise) {
  std::size_t packed = 0;
  for (auto _ : state) {
    state.PauseTiming();
    PixelBuffer fb = picture(noise);
    state.ResumeTiming();
    fb.compact();
    packed = fb.heap_bytes();
  }
  report(state, picture(noise), packed);
}

void bm_expand(benchmark::State& state, bool noise) {
  PixelBuffer packed = picture(noise);
  packed.compact();
  for (auto _ : state) {
    state.PauseTiming();
    PixelBuffer fb = packed;
    state.ResumeTiming();
    fb.expand();
    benchmark::DoNotOptimize(fb.pixels().data());
  }
  report(state, picture(noise), packed.heap_bytes());
}

void bm_compact_expand(benchmark::State& state, bool noise) {
  PixelBuffer fb = picture(noise);
  std::size_t packed = 0;
  for (auto _ : state) {
    fb.compact();
    packed = fb.heap_bytes();
    fb.expand();
    benchmark::DoNotOptimize(fb.pixels().data());
  }
  report(state, fb, packed);
}

// One scroll by a 17-row line: the destination pieces Xvnc sent for it (a vncgate_viewer_load --rects dump).
constexpr vncgate::framebuffer::Rect kScrollPieces[] = {{3, 3, 1277, 372},  {645, 375, 635, 16}, {3, 375, 633, 16},
                                                        {3, 391, 1277, 1},  {645, 392, 635, 16}, {3, 392, 633, 16},
                                                        {3, 408, 1277, 358}};
constexpr int kLine = 17;

void bm_scroll(benchmark::State& state, int mode) {
  PixelBuffer fb = picture(false);
  vncgate::framebuffer::CopyBatch batch;
  for (auto _ : state) {
    if (mode == 3) {
      for (const auto& d : kScrollPieces) batch.add({d.x, d.y + kLine, d.w, d.h}, d.x, d.y);
      batch.apply_to(fb);
      continue;
    }
    for (const auto& d : kScrollPieces) {
      const vncgate::framebuffer::Rect src{d.x, d.y + kLine, d.w, d.h};
      if (mode == 1) {
        for (int i = 0; i < d.h; ++i)
          std::memmove(fb.row(d.y + i) + d.x, fb.row(src.y + i) + d.x, static_cast<std::size_t>(d.w) * 4);
      } else {
        fb.copy(src, d.x, d.y);
      }
    }
    if (mode == 2 && state.iterations() % 2 == 0) benchmark::DoNotOptimize(fb.pixels().data());
  }
  report(state, fb, 0);
}

BENCHMARK_CAPTURE(bm_scroll, rows, 0)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(bm_scroll, batch, 3)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(bm_scroll, memmove, 1)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(bm_scroll, rows_then_pixels, 2)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(bm_compact, text, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bm_expand, text, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bm_compact_expand, text, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bm_compact, noise, true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bm_expand, noise, true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bm_compact_expand, noise, true)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
