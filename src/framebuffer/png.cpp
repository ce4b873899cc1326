// SPDX-License-Identifier: Apache-2.0
#include "framebuffer/png.hpp"

#include <png.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

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

// One PNG through libpng's write callbacks; `what` names the destination in errors.
void encode(const PixelBuffer& fb, void* io, png_rw_ptr write, png_flush_ptr flush, const std::string& what) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!info) {
    png_destroy_write_struct(&png, nullptr);
    throw Error(ErrorCategory::storage, "libpng: out of memory");
  }
  std::vector<png_byte> row(static_cast<std::size_t>(fb.width()) * 3);
  // libpng reports errors by longjmp; nothing with a destructor is created between here and the end.
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    throw Error(ErrorCategory::storage, "libpng: failed writing " + what);
  }
  png_set_write_fn(png, io, write, flush);
  png_set_compression_level(png, 6);
  png_set_IHDR(png, info, static_cast<png_uint_32>(fb.width()), static_cast<png_uint_32>(fb.height()), 8,
               PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int y = 0; y < fb.height(); ++y) {
    const Pixel* src = fb.row(y);
    for (int x = 0; x < fb.width(); ++x) {
      row[x * 3] = static_cast<png_byte>(red(src[x]));
      row[x * 3 + 1] = static_cast<png_byte>(green(src[x]));
      row[x * 3 + 2] = static_cast<png_byte>(blue(src[x]));
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
