// SPDX-License-Identifier: Apache-2.0
#include "text/font_files.hpp"

#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "text/pcf_font.hpp"
#include "text/psf_font.hpp"
#include "text/vga_rom_font.hpp"
#include "util/error.hpp"

namespace vncgate::text {
namespace {

constexpr std::size_t kMaxFontBytes = 16 << 20;

std::vector<std::uint8_t> gunzip(std::span<const std::uint8_t> data, const std::string& name) {
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) throw CodecError("font " + name + ": zlib init failed");
  std::vector<std::uint8_t> out;
  std::uint8_t chunk[65536];
  z.next_in = const_cast<Bytef*>(data.data());
  z.avail_in = static_cast<uInt>(data.size());
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    z.next_out = chunk;
    z.avail_out = sizeof chunk;
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&z);
      throw CodecError("font " + name + ": corrupt gzip data");
    }
    out.insert(out.end(), chunk, chunk + (sizeof chunk - z.avail_out));
    if (out.size() > kMaxFontBytes || (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0)) {
      inflateEnd(&z);
      throw CodecError("font " + name +
                       (out.size() > kMaxFontBytes ? ": larger than 16 MiB" : ": truncated gzip data"));
    }
  }
  inflateEnd(&z);
  return out;
}

// ROM images have no magic of their own; these are what seabios installs.
bool rom_name(const std::string& name) { return name.ends_with(".bin") || name.ends_with(".rom"); }

std::vector<Font> parse_plain(std::span<const std::uint8_t> data, const std::string& name) {
  if (is_psf(data)) return {parse_psf(data, name)};
  if (is_pcf(data)) return {parse_pcf(data, name)};
  if (rom_name(name)) {
    auto fonts = vga_rom_fonts(data, name);
    if (fonts.empty()) throw CodecError("font " + name + ": no VGA 8x16 font table in this ROM image");
    return fonts;
  }
  throw CodecError("font " + name + ": neither PSF, PCF nor a VGA BIOS image");
}

}  // namespace

std::vector<Font> parse_font_data(std::span<const std::uint8_t> data, const std::string& name) {
  if (data.size() >= 2 && data[0] == 0x1f && data[1] == 0x8b) return parse_plain(gunzip(data, name), name);
  return parse_plain(data, name);
}

std::vector<Font> load_font_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot open font " + path);
  std::vector<std::uint8_t> data;
  in.seekg(0, std::ios::end);
  const auto size = in.tellg();
  if (size < 0 || static_cast<std::size_t>(size) > kMaxFontBytes) throw CodecError("font " + path + ": too large");
  in.seekg(0);
  data.resize(static_cast<std::size_t>(size));
  if (!in.read(reinterpret_cast<char*>(data.data()), size)) throw IoError("cannot read font " + path);
  return parse_font_data(data, path);
}

std::vector<std::string> installed_font_files() {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  auto add = [&](const fs::path& p) {
    std::error_code ec;
    if (fs::is_regular_file(p, ec)) files.push_back(p.string());
  };
  for (const char* rom : {"/usr/share/seabios/vgabios-stdvga.bin", "/usr/share/qemu/vgabios-stdvga.bin"}) {
    if (fs::exists(rom)) {
      add(rom);
      break;
    }
  }
  const fs::path console = "/usr/share/consolefonts";
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(console, ec)) {
    const std::string n = entry.path().filename().string();
    if (n.starts_with("Uni2-") || n.starts_with("Lat15-") || n.starts_with("Ethiopian-Goha16.")) names.push_back(n);
  }
  std::sort(names.begin(), names.end());
  for (const auto& n : names) add(console / n);
  const fs::path misc = "/usr/share/fonts/X11/misc";
  for (const char* n : {"5x7",   "5x8",  "6x9",   "6x10", "6x12", "6x13",  "6x13B", "7x13",  "7x13B", "7x14",
                        "7x14B", "8x13", "8x13B", "8x16", "9x15", "9x15B", "9x18",  "9x18B", "10x20", "12x24"})
    add(misc / (std::string(n) + ".pcf.gz"));
  return files;
}

}  // namespace vncgate::text
