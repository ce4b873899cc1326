// SPDX-License-Identifier: Apache-2.0
// Coloured console text through the recorder's own encoder (record::Mp4Writer) under each chroma option:
// PSNR against the server's own framebuffer, size per minute and CPU per frame. The screens come from real
// servers started here: the QEMU test guest's colour screen (MODE=static) in VGA text mode (720x400) and on the
// 1024x768 framebuffer console (vga=0x317), the same picture in an xterm on Xvnc (xwd -root), and the grey text
// console (MODE=text) for reference.
//
// Per screen and option, two minutes of video are encoded the way `vncgate record` writes them:
//   still  the screen at t=0, then the once-a-second repeat of an unchanged screen, ended at 60 s; PSNR of
//          the last decoded frame (what the recording tests check);
//   busy   600 frames at 10 fps, each the screen scrolled cyclically by one more text row (16 px), like a
//          terminal printing a line every 100 ms; CPU per frame (colour conversion + x264, thread CPU time)
//          and the mean and lowest PSNR over every decoded frame.
// Decoding is ffmpeg's (an independent reader). A 2x-upscaled variant is compared after averaging each 2x2
// block back to one pixel (what a player shrinking it to the console's size shows).
//
//   vncgate_chroma_bench [--out FILE.md] [--busy-seconds 60] [--screens LIST] [--variants LIST] [--save DIR]
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "record/mp4_writer.hpp"
#include "support/image.hpp"
#include "support/media.hpp"
#include "support/qemu.hpp"
#include "support/xvnc.hpp"

namespace vncgate::bench {
namespace {

using framebuffer::Pixel;
using framebuffer::PixelBuffer;

struct Screen {
  std::string name;
  PixelBuffer image;
};

struct Variant {
  std::string name;
  std::string description;
  record::EncoderSettings settings;
  bool upscale = false;  // nearest-neighbour 2x before encoding
};

struct Figures {
  double first_db = 0, still_db = 0, still_kib_per_min = 0;
  double busy_kib_per_min = 0, busy_ms_per_frame = 0, busy_mean_db = 0, busy_min_db = 0;
};

double thread_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

// The picture moved up by `rows` pixel rows, wrapping around (a terminal scrolling through its text).
PixelBuffer scrolled(const PixelBuffer& image, int rows) {
  PixelBuffer out(image.width(), image.height());
  for (int y = 0; y < image.height(); ++y)
    std::copy_n(image.row((y + rows) % image.height()), image.width(), out.row(y));
  return out;
}

PixelBuffer upscale2x(const PixelBuffer& image) {
  PixelBuffer out(image.width() * 2, image.height() * 2);
  for (int y = 0; y < out.height(); ++y) {
    const Pixel* src = image.row(y / 2);
    Pixel* dst = out.row(y);
    for (int x = 0; x < out.width(); ++x) dst[x] = src[x / 2];
  }
  return out;
}

// Each 2x2 block averaged into one pixel (rounded).
PixelBuffer downscale2x(const PixelBuffer& image) {
  PixelBuffer out(image.width() / 2, image.height() / 2);
  for (int y = 0; y < out.height(); ++y) {
    const Pixel* a = image.row(2 * y);
    const Pixel* b = image.row(2 * y + 1);
    for (int x = 0; x < out.width(); ++x) {
      Pixel p = 0;
      for (int shift : {0, 8, 16}) {
        const unsigned sum = ((a[2 * x] >> shift) & 0xff) + ((a[2 * x + 1] >> shift) & 0xff) +
                             ((b[2 * x] >> shift) & 0xff) + ((b[2 * x + 1] >> shift) & 0xff);
        p |= ((sum + 2) / 4) << shift;
      }
      out.row(y)[x] = p;
    }
  }
  return out;
}

// Every frame ffmpeg decodes from `path` (bgr0, width x height), handed to `on_frame` one at a time: the busy
// minute does not fit in memory as a whole.
void decode_each(const std::string& path, int width, int height,
                 const std::function<void(const PixelBuffer&)>& on_frame) {
  const std::string command =
      "ffmpeg -v error -i '" + path + "' -vsync passthrough -f rawvideo -pix_fmt bgr0 - 2>/dev/null";
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run ffmpeg");
  PixelBuffer frame(width, height);
  const std::size_t bytes = static_cast<std::size_t>(width) * height * 4;
  while (std::fread(frame.pixels().data(), 1, bytes, pipe) == bytes) on_frame(frame);
  if (pclose(pipe) != 0) throw std::runtime_error("ffmpeg could not decode " + path);
}

class Bench {
 public:
  Bench(std::string dir, double busy_seconds)
      : dir_(std::move(dir)), busy_frames_(static_cast<int>(busy_seconds * 10)) {}

  Figures measure(const Screen& screen, const Variant& v) {
    const int scale = v.upscale ? 2 : 1;
    const int w = screen.image.width() * scale, h = screen.image.height() * scale;
    auto prepare = [&](const PixelBuffer& p) { return v.upscale ? upscale2x(p) : p; };
    auto judge = [&](const PixelBuffer& decoded, const PixelBuffer& expected) {
      return test::psnr(expected, v.upscale ? downscale2x(decoded) : decoded);
    };
    Figures f;
    const std::string still = dir_ + "/still.mp4", busy = dir_ + "/busy.mp4";
    {
      record::Mp4Writer writer(still, v.settings, w, h, 0);
      writer.write(prepare(screen.image), 0);
      for (int s = 1; s < 60; ++s) writer.repeat(s * 1000);
      f.still_kib_per_min = writer.finish(60000).bytes / 1024.0;
    }
    PixelBuffer first, last;
    decode_each(still, w, h, [&](const PixelBuffer& frame) {
      if (first.width() == 0) first = frame;
      last = frame;
    });
    f.first_db = judge(first, screen.image);
    f.still_db = judge(last, screen.image);

    const int row_step = 16;
    double cpu_ms = 0;
    {
      record::Mp4Writer writer(busy, v.settings, w, h, 0);
      for (int i = 0; i < busy_frames_; ++i) {
        const PixelBuffer frame = prepare(scrolled(screen.image, i * row_step % screen.image.height()));
        const double before = thread_cpu_ms();
        writer.write(frame, i * 100);
        cpu_ms += thread_cpu_ms() - before;
      }
      const auto stats = writer.finish(busy_frames_ * 100);
      f.busy_kib_per_min = stats.bytes / 1024.0 * 600.0 / busy_frames_;
    }
    f.busy_ms_per_frame = cpu_ms / busy_frames_;
    double sum = 0;
    double lowest = std::numeric_limits<double>::infinity();
    int n = 0;
    decode_each(busy, w, h, [&](const PixelBuffer& frame) {
      const double db = std::min(99.0, judge(frame, scrolled(screen.image, n * row_step % screen.image.height())));
      sum += db;
      lowest = std::min(lowest, db);
      ++n;
    });
    if (n != busy_frames_)
      throw std::runtime_error("decoded " + std::to_string(n) + " busy frames, wrote " + std::to_string(busy_frames_));
    f.busy_mean_db = sum / n;
    f.busy_min_db = lowest;
    return f;
  }

 private:
  std::string dir_;
  int busy_frames_;
};

// Each option spelled out in full (not relative to EncoderSettings' defaults, which are one of them).
std::vector<Variant> variants() {
  struct Spec {
    const char* name;
    const char* description;
    record::Chroma chroma;
    const char* tune;
    int crf;
    const char* x264_params = "";
    bool upscale = false;
    int qp = -1;
    bool lossless = false;
  };
  using record::Chroma;
  const char* chroma_aware = "psy=0:aq-mode=0:deblock=0:chroma-qp-offset=-6";
  const Spec specs[] = {
      {"420", "4:2:0, CRF 18, stillimage (the default before)", Chroma::yuv420, "stillimage", 18},
      {"420-psnr", "4:2:0, CRF 18, tune psnr", Chroma::yuv420, "psnr", 18},
      {"420-chroma-aware", "4:2:0, CRF 18, psy/aq/deblock off, chroma-qp-offset -6", Chroma::yuv420, "", 18,
       chroma_aware},
      {"420-qp0", "4:2:0 coded losslessly (qp 0): the 4:2:0 ceiling", Chroma::yuv420, "", 18, "", false, 0},
      {"420-up2x", "4:2:0 of a 2x nearest-neighbour upscale, CRF 18, stillimage", Chroma::yuv420, "stillimage", 18, "",
       true},
      {"420-up2x-psnr", "4:2:0 of a 2x nearest-neighbour upscale, CRF 18, tune psnr", Chroma::yuv420, "psnr", 18, "",
       true},
      {"444", "4:4:4, CRF 18, stillimage", Chroma::yuv444, "stillimage", 18},
      {"444-nopsy", "4:4:4, CRF 18, stillimage with psy off", Chroma::yuv444, "stillimage", 18, "psy=0"},
      {"444-crf12", "4:4:4, CRF 12, stillimage", Chroma::yuv444, "stillimage", 12},
      {"444-psnr-crf18", "4:4:4, CRF 18, tune psnr", Chroma::yuv444, "psnr", 18},
      {"444-psnr", "**4:4:4, CRF 16, tune psnr (the new default)**", Chroma::yuv444, "psnr", 16},
      {"444-psnr-crf14", "4:4:4, CRF 14, tune psnr", Chroma::yuv444, "psnr", 14},
      {"444-chroma-aware", "4:4:4, CRF 18, psy/aq/deblock off, chroma-qp-offset -6", Chroma::yuv444, "", 18,
       chroma_aware},
      {"lossless", "RGB lossless (libx264rgb qp 0)", Chroma::yuv444, "", 18, "", false, -1, true},
  };
  std::vector<Variant> list;
  for (const auto& spec : specs) {
    Variant v;
    v.name = spec.name;
    v.description = spec.description;
    v.settings.chroma = spec.chroma;
    v.settings.tune = spec.tune;
    v.settings.crf = spec.crf;
    v.settings.x264_params = spec.x264_params;
    v.settings.qp = spec.qp;
    v.settings.lossless = spec.lossless;
    v.upscale = spec.upscale;
    list.push_back(std::move(v));
  }
  return list;
}

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream in(list);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

bool wanted(const std::vector<std::string>& filter, const std::string& name) {
  return filter.empty() || std::find(filter.begin(), filter.end(), name) != filter.end();
}

std::vector<Screen> capture_screens(const std::vector<std::string>& filter) {
  std::vector<Screen> screens;
  auto qemu = [&](const std::string& name, test::QemuOptions options) {
    if (!wanted(filter, name)) return;
    test::QemuGuest guest(std::move(options));
    screens.push_back({name, guest.screendump()});
  };
  qemu("text-colour", {.mode = "static"});
  qemu("fbcon-colour", {.mode = "static", .extra_append = "vga=0x317"});
  if (wanted(filter, "xterm-colour")) {
    test::XvncServer x;
    test::Process xterm = test::start_colour_xterm(x);
    screens.push_back({"xterm-colour", x.xwd_root()});
    xterm.stop();
  }
  qemu("text-grey", {.mode = "text"});
  return screens;
}

int run(int argc, char** argv) {
  CLI::App app{"Coloured console text through the recorder's encoder: PSNR, size per minute, CPU per frame"};
  std::string out, screens_list, variants_list, save;
  double busy_seconds = 60;
  app.add_option("--out", out, "also write the Markdown table here");
  app.add_option("--busy-seconds", busy_seconds, "length of the busy scene (10 fps)")->check(CLI::Range(1.0, 600.0));
  app.add_option("--screens", screens_list, "text-colour,fbcon-colour,xterm-colour,text-grey (default: all)");
  app.add_option("--variants", variants_list, "comma-separated variant names (default: all)");
  app.add_option("--save", save, "save each screen as DIR/<screen>.ppm");
  CLI11_PARSE(app, argc, argv);

  const auto screens = capture_screens(split(screens_list));
  if (!save.empty()) {
    std::filesystem::create_directories(save);
    for (const auto& s : screens) test::save_ppm(s.image, save + "/" + s.name + ".ppm");
  }
  test::TempDir dir("vncgate-chroma-bench");
  Bench bench(dir.path(), busy_seconds);
  std::ostringstream table;
  table << "| screen | option | first frame dB | after 60 s dB | busy dB mean / min | still KiB/min | busy KiB/min | "
           "busy ms/frame |\n"
        << "|---|---|---:|---:|---:|---:|---:|---:|\n";
  std::printf("%s", table.str().c_str());
  const auto filter = split(variants_list);
  for (const auto& screen : screens) {
    for (const auto& v : variants()) {
      if (!wanted(filter, v.name)) continue;
      const Figures f = bench.measure(screen, v);
      char line[512];
      std::snprintf(line, sizeof line, "| %s %dx%d | %s | %.2f | %.2f | %.2f / %.2f | %.0f | %.0f | %.2f |\n",
                    screen.name.c_str(), screen.image.width(), screen.image.height(), v.description.c_str(),
                    std::min(99.0, f.first_db), std::min(99.0, f.still_db), f.busy_mean_db, f.busy_min_db,
                    f.still_kib_per_min, f.busy_kib_per_min, f.busy_ms_per_frame);
      std::printf("%s", line);
      std::fflush(stdout);
      table << line;
    }
  }
  if (!out.empty()) std::ofstream(out) << table.str();
  return 0;
}

}  // namespace
}  // namespace vncgate::bench

int main(int argc, char** argv) {
  try {
    return vncgate::bench::run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vncgate_chroma_bench: %s\n", e.what());
    return 1;
  }
}
