// SPDX-License-Identifier: Apache-2.0
// vncgate_text_bench: reading a console as text (src/text) — what a recording pays a frame for its transcript.
//
//   vncgate_text_bench [--benchmark_* flags]
//
// Pictures: a full 1024x768 fbcon screen (128x48 cells) and a 720x400 VGA text screen (80x25 cells of 9x16),
// every cell a random printable character drawn with the installed font (Lat15-Fixed16, the VGA BIOS
// 9x16) in one of eight colour pairs — the worst case, real consoles are mostly blank. Benchmarks:
//   whole_screen  every cell read again with the grid known (a full-screen update)
//   one_row       the cells of one damaged text row (a line printed)
//   scroll        the whole screen rotated by a text row (every row damaged, each found in the previous picture)
//   find_grid     the grid search (first frame, resolution or font change); on an anti-aliased screen too
//   library       loading every installed console font (once a process)
#include <benchmark/benchmark.h>

#include <algorithm>
#include <random>

#include "framebuffer/test_frames.hpp"
#include "text/font_files.hpp"
#include "text/grid_finder.hpp"
#include "text/text_screen.hpp"

namespace {

using vncgate::framebuffer::make_pixel;
using vncgate::framebuffer::PixelBuffer;
namespace text = vncgate::text;

PixelBuffer draw_screen(const text::Font& font, int width, int height) {
  PixelBuffer fb(width, height);
  std::mt19937 rng(42);
  const vncgate::framebuffer::Pixel colours[] = {
      make_pixel(170, 170, 170), make_pixel(0, 0, 0),   make_pixel(255, 85, 85),   make_pixel(0, 0, 170),
      make_pixel(85, 255, 85),   make_pixel(0, 170, 0), make_pixel(255, 255, 255), make_pixel(170, 0, 0)};
  std::vector<const text::Glyph*> printable;
  for (const auto& g : font.glyphs)
    if (g.code > 0x20 && g.code < 0x7f) printable.push_back(&g);
  for (int row = 0; row < height / font.height; ++row)
    for (int col = 0; col < width / font.width; ++col) {
      const text::Glyph& g = *printable[rng() % printable.size()];
      const auto fg = colours[(row % 4) * 2], bg = colours[(row % 4) * 2 + 1];
      for (int y = 0; y < font.height; ++y)
        for (int x = 0; x < font.width; ++x)
          fb.row(row * font.height + y)[col * font.width + x] = (g.rows[y] >> x) & 1 ? fg : bg;
    }
  return fb;
}

const PixelBuffer& screen(bool vga) {
  static const PixelBuffer fbcon =
      draw_screen(text::load_font_file("/usr/share/consolefonts/Lat15-Fixed16.psf.gz").at(0), 1024, 768);
  static const PixelBuffer vga_text =
      draw_screen(text::load_font_file("/usr/share/seabios/vgabios-stdvga.bin").at(1), 720, 400);
  return vga ? vga_text : fbcon;
}

void bm_whole_screen(benchmark::State& state, bool vga) {
  const PixelBuffer& fb = screen(vga);
  text::TextScreen s;
  s.update(fb);
  if (!s.is_text() || s.unreadable_cells() != 0) state.SkipWithError("the picture does not read");
  const vncgate::framebuffer::Damage all(fb.bounds());
  for (auto _ : state) benchmark::DoNotOptimize(s.update(fb, all));
  state.counters["cells"] = s.columns() * s.rows();
}

void bm_one_row(benchmark::State& state) {
  const PixelBuffer& fb = screen(false);
  text::TextScreen s;
  s.update(fb);
  const vncgate::framebuffer::Damage row({0, 16 * 20, fb.width(), 16});
  for (auto _ : state) benchmark::DoNotOptimize(s.update(fb, row));
}

// A scroll by one text row of the whole fbcon screen (a damage the size of the screen): the rows that moved
// are found in the previous picture (fingerprint + memcmp) and only the new bottom row is read.
void bm_scroll(benchmark::State& state) {
  const PixelBuffer& fb = screen(false);
  PixelBuffer scrolled(fb.width(), fb.height());
  for (int y = 0; y < fb.height(); ++y) std::copy_n(fb.row((y + 16) % fb.height()), fb.width(), scrolled.row(y));
  text::TextScreen s;
  s.update(fb);
  bool flip = false;
  for (auto _ : state) {
    const PixelBuffer& now = flip ? fb : scrolled;
    const PixelBuffer& before = flip ? scrolled : fb;
    benchmark::DoNotOptimize(s.update(now, before));
    flip = !flip;
  }
  state.counters["cells_read_per_update"] =
      static_cast<double>(s.cells_read()) / static_cast<double>(state.iterations() + 1);
}

void bm_find_grid(benchmark::State& state, bool vga) {
  const PixelBuffer& fb = screen(vga);
  const auto library = text::GlyphLibrary::installed();
  for (auto _ : state) benchmark::DoNotOptimize(text::find_grid(fb, *library));
}

// The search on an anti-aliased screen (every frame of a scrolling xterm in DejaVu Sans Mono changes it all):
// rejected from its edges' colours, before any cell is read.
void bm_find_grid_antialiased(benchmark::State& state) {
  static const PixelBuffer fb = vncgate::framebuffer::test::blend(screen(false));
  const auto library = text::GlyphLibrary::installed();
  long long cells = 0;
  for (auto _ : state) benchmark::DoNotOptimize(text::find_grid(fb, *library, &cells));
  state.counters["cells_read"] = static_cast<double>(cells) / static_cast<double>(state.iterations());
}

void bm_library(benchmark::State& state) {
  for (auto _ : state) {
    text::GlyphLibrary lib;
    lib.add_files(text::installed_font_files());
    state.counters["glyphs"] = static_cast<double>(lib.glyph_count());
  }
}

}  // namespace

BENCHMARK_CAPTURE(bm_whole_screen, fbcon_1024x768, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bm_whole_screen, vga_720x400, true)->Unit(benchmark::kMillisecond);
BENCHMARK(bm_one_row)->Unit(benchmark::kMicrosecond);
BENCHMARK(bm_scroll)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bm_find_grid, fbcon_1024x768, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bm_find_grid, vga_720x400, true)->Unit(benchmark::kMillisecond);
BENCHMARK(bm_find_grid_antialiased)->Unit(benchmark::kMillisecond);
BENCHMARK(bm_library)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK_MAIN();
