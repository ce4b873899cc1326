// SPDX-License-Identifier: Apache-2.0
#include "support/image.hpp"

#include <png.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "support/process.hpp"

namespace vncgate::test {
namespace {

std::string hex(Pixel p) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%06x", p & 0xffffffu);
  return buf;
}

// Reads the next header token of a PPM, skipping whitespace and '#' comments.
bool next_token(const std::string& data, std::size_t& pos, std::string& token) {
  for (;;) {
    while (pos < data.size() && std::isspace(static_cast<unsigned char>(data[pos]))) ++pos;
    if (pos < data.size() && data[pos] == '#') {
      while (pos < data.size() && data[pos] != '\n') ++pos;
      continue;
    }
    break;
  }
  const std::size_t start = pos;
  while (pos < data.size() && !std::isspace(static_cast<unsigned char>(data[pos]))) ++pos;
  token = data.substr(start, pos - start);
  return !token.empty();
}

}  // namespace

PixelBuffer load_ppm(const std::string& path) {
  const std::string data = read_file(path);
  if (data.empty()) throw std::runtime_error("load_ppm: cannot read " + path);
  std::size_t pos = 0;
  std::string magic, ws, hs, maxs;
  if (!next_token(data, pos, magic) || magic != "P6") throw std::runtime_error("load_ppm: not a P6 file: " + path);
  if (!next_token(data, pos, ws) || !next_token(data, pos, hs) || !next_token(data, pos, maxs))
    throw std::runtime_error("load_ppm: truncated header: " + path);
  const int w = std::stoi(ws), h = std::stoi(hs), maxval = std::stoi(maxs);
  if (w <= 0 || h <= 0 || w > 16384 || h > 16384) throw std::runtime_error("load_ppm: bad size in " + path);
  if (maxval != 255) throw std::runtime_error("load_ppm: maxval " + maxs + " unsupported in " + path);
  ++pos;  // the single whitespace byte after maxval
  const std::size_t need = static_cast<std::size_t>(w) * h * 3;
  if (data.size() < pos + need) throw std::runtime_error("load_ppm: truncated pixel data in " + path);
  PixelBuffer out(w, h);
  const auto* p = reinterpret_cast<const unsigned char*>(data.data() + pos);
  for (int y = 0; y < h; ++y) {
    Pixel* row = out.row(y);
    for (int x = 0; x < w; ++x, p += 3) row[x] = framebuffer::make_pixel(p[0], p[1], p[2]);
  }
  return out;
}

PixelBuffer load_png(const std::string& path) {
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&image, path.c_str()))
    throw std::runtime_error("load_png: " + path + ": " + image.message);
  image.format = PNG_FORMAT_RGB;
  std::vector<unsigned char> rgb(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, rgb.data(), 0, nullptr)) {
    const std::string msg = image.message;
    png_image_free(&image);
    throw std::runtime_error("load_png: " + path + ": " + msg);
  }
  const int w = static_cast<int>(image.width), h = static_cast<int>(image.height);
  PixelBuffer out(w, h);
  const unsigned char* p = rgb.data();
  for (int y = 0; y < h; ++y) {
    Pixel* row = out.row(y);
    for (int x = 0; x < w; ++x, p += 3) row[x] = framebuffer::make_pixel(p[0], p[1], p[2]);
  }
  return out;
}

void save_ppm(const PixelBuffer& image, const std::string& path) {
  std::string data = "P6\n" + std::to_string(image.width()) + " " + std::to_string(image.height()) + "\n255\n";
  data.reserve(data.size() + static_cast<std::size_t>(image.width()) * image.height() * 3);
  for (int y = 0; y < image.height(); ++y) {
    const Pixel* row = image.row(y);
    for (int x = 0; x < image.width(); ++x) {
      data.push_back(static_cast<char>(framebuffer::red(row[x])));
      data.push_back(static_cast<char>(framebuffer::green(row[x])));
      data.push_back(static_cast<char>(framebuffer::blue(row[x])));
    }
  }
  write_file(path, data);
}

PixelBuffer reduce(const PixelBuffer& image, Pixel mask) {
  PixelBuffer out(image.width(), image.height());
  auto src = image.pixels();
  auto dst = out.pixels();
  for (std::size_t i = 0; i < src.size(); ++i) dst[i] = src[i] & mask;
  return out;
}

std::string diff_summary(const PixelBuffer& expected, const PixelBuffer& actual, Pixel mask) {
  if (expected.width() != actual.width() || expected.height() != actual.height()) {
    return "size differs: expected " + std::to_string(expected.width()) + "x" + std::to_string(expected.height()) +
           ", actual " + std::to_string(actual.width()) + "x" + std::to_string(actual.height());
  }
  mask &= 0xffffff;
  std::size_t count = 0;
  int fx = -1, fy = -1;
  int min_x = expected.width(), min_y = expected.height(), max_x = -1, max_y = -1;
  for (int y = 0; y < expected.height(); ++y) {
    const Pixel* e = expected.row(y);
    const Pixel* a = actual.row(y);
    for (int x = 0; x < expected.width(); ++x) {
      if (((e[x] ^ a[x]) & mask) == 0) continue;
      if (count++ == 0) fx = x, fy = y;
      min_x = std::min(min_x, x), max_x = std::max(max_x, x);
      min_y = std::min(min_y, y), max_y = std::max(max_y, y);
    }
  }
  if (count == 0) return {};
  std::ostringstream s;
  s << expected.width() << "x" << expected.height() << ": " << count << " pixel(s) differ"
    << (mask != kMaskExact ? " (masked " + hex(mask) + ")" : std::string()) << ", within x " << min_x << ".." << max_x
    << " y " << min_y << ".." << max_y << "; first at (" << fx << "," << fy << "): expected "
    << hex(expected.at(fx, fy)) << " actual " << hex(actual.at(fx, fy));
  return s.str();
}

double psnr(const PixelBuffer& expected, const PixelBuffer& actual, const framebuffer::Rect& area) {
  double sum = 0;
  for (int y = area.y; y < area.bottom(); ++y)
    for (int x = area.x; x < area.right(); ++x)
      for (int shift : {0, 8, 16}) {
        const double d = double((expected.at(x, y) >> shift) & 0xff) - double((actual.at(x, y) >> shift) & 0xff);
        sum += d * d;
      }
  const double mse = sum / (3.0 * static_cast<double>(area.area()));
  return mse == 0 ? 99.0 : 10.0 * std::log10(255.0 * 255.0 / mse);
}

}  // namespace vncgate::test
