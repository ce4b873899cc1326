// SPDX-License-Identifier: Apache-2.0
// vncgate_framebuffer_bench: PixelBuffer::compact()/expand(), what an idle gateway session pays to hibernate
// its picture and to wake it up again.
//
//   vncgate_framebuffer_bench [--benchmark_* flags]
//
// Pictures (tests/framebuffer/test_frames.hpp): `text` — a 1280x800 console of 8x16 glyphs, lines of random
// length; `noise` — 640x480 random pixels, the incompressible worst case. Counters:
//   bytes    heap bytes of the compacted picture (compressed data + palette)
//   MB/s     canonical picture bytes (4 per pixel) processed per CPU second
#include <benchmark/benchmark.h>

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

BENCHMARK_CAPTURE(bm_compact, text, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bm_expand, text, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bm_compact_expand, text, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bm_compact, noise, true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bm_expand, noise, true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bm_compact_expand, noise, true)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
