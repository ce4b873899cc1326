// SPDX-License-Identifier: Apache-2.0
#include "framebuffer/png.hpp"

#include <png.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "framebuffer/colour_palette.hpp"
#include "util/error.hpp"

namespace vncgate::framebuffer {

namespace {

void write_to_file(png_structp png, png_bytep data, png_size_t length) {
  if (std::fwrite(data, 1, length, static_cast<FILE*>(png_get_io_ptr(png))) != length) png_error(png, "write failed");
}
void flush_file(png_structp png) { std::fflush(static_cast<FILE*>(png_get_io_ptr(png))); }
void append_to_string(png_structp png, png_bytep data, png_size_t length) {
  static_cast<std::string*>(png_get_io_ptr(png))->append(reinterpret_cast<const char*>(data), length);
}
void no_flush(png_structp) {}

// How a picture is written, chosen per picture (measured on a 1280x800 xterm screen, a 13-colour version of it
// and a photo-like plasma; libpng's default, adaptive filters at level 6, took 24, 24 and 117 ms):
// - at most 256 colours (a text console): a palette of 1-8 bits a pixel, unfiltered, level 6 — 29 KB in
//   6.4 ms where RGB took 104 KB;
// - long runs of one colour (anti-aliased text on a flat background): RGB unfiltered at level 2 — 147 KB in
//   6.6 ms (154 KB by default);
// - else (photos, gradients): RGB with the Sub filter and run-length matching (Z_RLE) at level 1 — 1.87 MB in
//   21 ms (1.79 MB).
struct Layout {
  ColourPalette palette;
  bool use_palette = false;
  bool runs = false;
};

// Share of pixels equal to their left neighbour on every 8th row.
bool mostly_runs(const PixelBuffer& fb) {
  long long same = 0, seen = 0;
  for (int y = 0; y < fb.height(); y += 8) {
    const Pixel* row = fb.row(y);
    for (int x = 1; x < fb.width(); ++x) same += row[x] == row[x - 1];
    seen += fb.width() - 1;
  }
  return seen == 0 || same * 2 >= seen;
}

Layout choose(const PixelBuffer& fb) {
  Layout layout;
  layout.palette.collect(fb, {0, 0, fb.width(), fb.height()}, ColourPalette::kMaxColours);
  layout.use_palette = !layout.palette.overflowed();
  layout.runs = layout.use_palette || mostly_runs(fb);
  return layout;
}

int bits_for(int colours) { return colours <= 2 ? 1 : colours <= 4 ? 2 : colours <= 16 ? 4 : 8; }

// One PNG through libpng's write callbacks; `what` names the destination in errors.
void encode(const PixelBuffer& fb, void* io, png_rw_ptr write, png_flush_ptr flush, const std::string& what) {
  const Layout layout = choose(fb);  // not changed after setjmp below
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!info) {
    png_destroy_write_struct(&png, nullptr);
    throw Error(ErrorCategory::storage, "libpng: out of memory");
  }
  const int colours = layout.palette.size();
  const int bits = layout.use_palette ? bits_for(colours) : 8;
  std::vector<png_byte> row(static_cast<std::size_t>(fb.width()) * 3);
  std::vector<png_color> plte(layout.use_palette ? static_cast<std::size_t>(colours) : 0);
  for (std::size_t i = 0; i < plte.size(); ++i) {
    const Pixel c = layout.palette.colour(static_cast<int>(i));
    plte[i] = {static_cast<png_byte>(red(c)), static_cast<png_byte>(green(c)), static_cast<png_byte>(blue(c))};
  }
  // libpng reports errors by longjmp; nothing with a destructor is created between here and the end.
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    throw Error(ErrorCategory::storage, "libpng: failed writing " + what);
  }
  png_set_write_fn(png, io, write, flush);
  if (layout.use_palette) {
    png_set_compression_level(png, 6);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_NONE);
  } else if (layout.runs) {
    png_set_compression_level(png, 2);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_NONE);
  } else {
    png_set_compression_level(png, 1);
    png_set_compression_strategy(png, Z_RLE);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_SUB);
  }
  png_set_IHDR(png, info, static_cast<png_uint_32>(fb.width()), static_cast<png_uint_32>(fb.height()), bits,
               layout.use_palette ? PNG_COLOR_TYPE_PALETTE : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (layout.use_palette) png_set_PLTE(png, info, plte.data(), colours);
  png_write_info(png, info);
  for (int y = 0; y < fb.height(); ++y) {
    const Pixel* src = fb.row(y);
    if (layout.use_palette) {
      // Indices packed from the most significant bits, as PNG wants them.
      const int per_byte = 8 / bits;
      std::fill(row.begin(), row.end(), 0);
      for (int x = 0; x < fb.width(); ++x)
        row[static_cast<std::size_t>(x / per_byte)] |=
            static_cast<png_byte>(layout.palette.index(src[x]) << (8 - bits - (x % per_byte) * bits));
    } else {
      for (int x = 0; x < fb.width(); ++x) {
        row[x * 3] = static_cast<png_byte>(red(src[x]));
        row[x * 3 + 1] = static_cast<png_byte>(green(src[x]));
        row[x * 3 + 2] = static_cast<png_byte>(blue(src[x]));
      }
    }
    png_write_row(png, row.data());
  }
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
}

}  // namespace

void write_png(const PixelBuffer& fb, const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!file) throw Error(ErrorCategory::storage, "cannot write " + path + ": " + std::strerror(errno));
  encode(fb, file.get(), &write_to_file, &flush_file, path);
  if (std::fflush(file.get()) != 0)
    throw Error(ErrorCategory::storage, "cannot write " + path + ": " + std::strerror(errno));
}

std::string encode_png(const PixelBuffer& fb) {
  std::string out;
  encode(fb, &out, &append_to_string, &no_flush, "a PNG in memory");
  return out;
}

}  // namespace vncgate::framebuffer
