// SPDX-License-Identifier: Apache-2.0
// Differential test of the gateway's encoders against noVNC's own decoders (the Debian novnc package the web
// root bundles), in Chromium: long seeded sequences of console-like changes — text cells, cursor blinks,
// scrolling (CopyRect), colour changes, full-screen redraws, photo-like areas (JPEG when a viewer asks for a
// quality), resizes — are fanned out as the gateway does (rfb::ServerConnection per viewer, one encoding per
// distinct plan through rfb::SharedEncodings; a viewer alone through its own rfb::ViewerEncoders, whose zlib
// streams keep their history), to viewers that join at different moments, stall now and then and ask for
// different encodings. Every viewer's bytes and the gateway's picture after each of its updates go
// into a trace that tests/web/novnc_decode_check.mjs replays through noVNC's Websock, decoders and Display; the
// canvas must equal the picture exactly after every update (JPEG areas: within a PSNR bound).
#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "rfb/client_connection.hpp"
#include "rfb/server_connection.hpp"
#include "rfb/shared_encodings.hpp"
#include "support/browser.hpp"
#include "support/process.hpp"

namespace vncgate::test {
namespace {

using framebuffer::Pixel;
using framebuffer::PixelBuffer;
using framebuffer::Rect;
using rfb::Encoding;

// What noVNC 1.3 asks for (rfb.js _sendEncodings and RFB.messages.pixelFormat with depth 24).
std::vector<Encoding> novnc_encodings(int quality, int compression) {
  return {Encoding::copy_rect,
          Encoding::tight,
          static_cast<Encoding>(-260),  // TightPNG
          Encoding::hextile,
          Encoding::rre,
          Encoding::raw,
          rfb::quality_level(quality),
          rfb::compress_level(compression),
          Encoding::desktop_size,
          Encoding::last_rect,
          Encoding::qemu_extended_key_event,
          Encoding::extended_desktop_size,
          Encoding::xvp,
          Encoding::fence,
          Encoding::continuous_updates,
          Encoding::desktop_name,
          static_cast<Encoding>(static_cast<std::int32_t>(0xc0a1e5ce)),
          static_cast<Encoding>(0x574d5664),  // VMware cursor
          Encoding::cursor};
}

rfb::PixelFormat novnc_format() {
  rfb::PixelFormat pf;  // 32 bpp, depth 24, little endian, R G B at shifts 0, 8, 16: RGBA bytes in memory
  pf.red_shift = 0;
  pf.blue_shift = 16;
  return pf;
}

struct ViewerSpec {
  std::string label;
  std::vector<Encoding> encodings;
  int join_step = 0;
  double stall = 0;  // chance per update that the viewer asks again only some steps later (a slow link)
  // Encoded as a viewer alone is (rfb::ViewerEncoders: zlib history kept between updates) after its first
  // frame, except every `share_every`-th update (0: never), which goes shared and drops its encoders, as when a
  // second viewer comes and goes (AsyncServer::encode).
  bool alone = false;
  int share_every = 0;
};

struct RunSpec {
  unsigned seed = 1;
  int steps = 1000;
  std::vector<ViewerSpec> viewers;
  double resize = 0.004;  // chance per step
  double photo = 0.03;
};

// The trace novnc_decode_page.js reads (little endian): "VGTR", u32 version 1, then records
// {u8 kind, u8 viewer, u16 0, u32 length, payload}.
class TraceWriter {
 public:
  enum Kind : std::uint8_t { join = 1, bytes = 2, expect = 3, end = 4 };
  explicit TraceWriter(const std::string& path) : out_(path, std::ios::binary) {
    out_.write("VGTR", 4);
    put32(head_, 1);
    flush_head();
  }
  void record(Kind kind, int viewer, const std::vector<std::uint8_t>& payload) {
    head_ = {kind, static_cast<std::uint8_t>(viewer), 0, 0};
    put32(head_, static_cast<std::uint32_t>(payload.size()));
    flush_head();
    out_.write(reinterpret_cast<const char*>(payload.data()), static_cast<std::streamsize>(payload.size()));
  }
  bool good() const { return out_.good(); }
  static void put16(std::vector<std::uint8_t>& b, unsigned v) {
    b.push_back(v & 0xff);
    b.push_back((v >> 8) & 0xff);
  }
  static void put32(std::vector<std::uint8_t>& b, std::uint32_t v) {
    put16(b, v & 0xffff);
    put16(b, v >> 16);
  }

 private:
  void flush_head() {
    out_.write(reinterpret_cast<const char*>(head_.data()), static_cast<std::streamsize>(head_.size()));
    head_.clear();
  }
  std::ofstream out_;
  std::vector<std::uint8_t> head_;
};

std::vector<std::uint8_t> deflated(const std::vector<std::uint8_t>& data) {
  uLongf size = compressBound(static_cast<uLong>(data.size()));
  std::vector<std::uint8_t> out(size);
  if (compress2(out.data(), &size, data.data(), static_cast<uLong>(data.size()), 6) != Z_OK)
    throw std::runtime_error("compress2 failed");
  out.resize(size);
  return out;
}

// One viewer as the gateway sees it (ServerConnection) and as noVNC drives it (our ClientConnection sends the
// same messages noVNC sends; its rectangle observer tells which areas went as JPEG).
struct SimViewer {
  int id;
  ViewerSpec spec;
  std::unique_ptr<rfb::ServerConnection> server;
  std::unique_ptr<rfb::ClientConnection> client;
  int stalled_until = -1;                    // step at which it asks again
  std::unique_ptr<rfb::ViewerEncoders> own;  // ViewerSpec::alone
  int updates = 0;
  std::vector<std::uint8_t> lossy;  // 1 per pixel: last painted by a JPEG rectangle
  int width = 0, height = 0;
};

class Generator {
 public:
  Generator(const RunSpec& spec, TraceWriter& trace) : spec_(spec), trace_(trace), rng_(spec.seed) {}

  // Runs the spec; returns the number of viewer updates written.
  int run() {
    resize(640, 400);
    for (int step = 0; step < spec_.steps; ++step) {
      step_ = step;
      for (std::size_t i = 0; i < spec_.viewers.size(); ++i)
        if (spec_.viewers[i].join_step == step) join(static_cast<int>(i), spec_.viewers[i]);
      change();
      encodings_.picture_changed();
      for (auto& v : viewers_) serve(*v);
    }
    trace_.record(TraceWriter::end, 0, {});
    return updates_;
  }
  std::uint64_t encoded() const { return encodings_.encoded(); }
  // The first place where vncgate's own client, decoding the same bytes, differs from the picture ("" = none).
  const std::string& self_mismatch() const { return self_mismatch_; }
  std::uint64_t shared() const { return encodings_.shared(); }

 private:
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  Pixel vga(int i) const {
    static constexpr Pixel kVga[16] = {0x000000, 0x0000aa, 0x00aa00, 0x00aaaa, 0xaa0000, 0xaa00aa, 0xaa5500, 0xaaaaaa,
                                       0x555555, 0x5555ff, 0x55ff55, 0x55ffff, 0xff5555, 0xff55ff, 0xffff55, 0xffffff};
    return kVga[i & 15];
  }

  void join(int id, const ViewerSpec& spec) {
    auto v = std::make_unique<SimViewer>();
    v->id = id;
    v->spec = spec;
    v->server = std::make_unique<rfb::ServerConnection>(rfb::ServerOptions{}, fb_.width(), fb_.height());
    rfb::ClientOptions options;
    options.encodings = spec.encodings;
    options.pixel_format = novnc_format();
    v->client = std::make_unique<rfb::ClientConnection>(options);
    SimViewer* raw = v.get();
    v->client->set_rect_observer(
        [raw](Encoding e, const Rect& r, std::span<const std::uint8_t> payload) { track_lossy(*raw, e, r, payload); });
    // The handshake is noVNC's own business (rfb.js); the trace starts after ServerInit.
    for (int i = 0; i < 20 && !(v->client->ready() && !v->client->has_output() && !v->server->has_output()); ++i) {
      v->client->feed(v->server->take_output());
      v->server->feed(v->client->take_output());
    }
    if (!v->server->ready()) throw std::runtime_error("viewer handshake did not finish");
    v->width = fb_.width();
    v->height = fb_.height();
    v->lossy.assign(static_cast<std::size_t>(v->width) * v->height, 0);
    std::vector<std::uint8_t> payload;
    TraceWriter::put16(payload, static_cast<unsigned>(fb_.width()));
    TraceWriter::put16(payload, static_cast<unsigned>(fb_.height()));
    payload.insert(payload.end(), spec.label.begin(), spec.label.end());
    trace_.record(TraceWriter::join, id, payload);
    viewers_.push_back(std::move(v));
  }

  static void track_lossy(SimViewer& v, Encoding e, const Rect& r, std::span<const std::uint8_t> payload) {
    const auto& fb = v.client->framebuffer();
    if (fb.width() != v.width || fb.height() != v.height) {  // resized: everything is painted again
      v.width = fb.width();
      v.height = fb.height();
      v.lossy.assign(static_cast<std::size_t>(v.width) * v.height, 0);
    }
    auto set = [&](const Rect& a, std::uint8_t value) {
      for (int y = a.y; y < a.bottom(); ++y)
        std::fill_n(v.lossy.begin() + static_cast<std::ptrdiff_t>(y) * v.width + a.x, a.w, value);
    };
    if (e == Encoding::copy_rect && payload.size() == 4) {
      const int sx = payload[0] << 8 | payload[1], sy = payload[2] << 8 | payload[3];
      std::vector<std::uint8_t> source(static_cast<std::size_t>(r.area()));
      for (int y = 0; y < r.h; ++y)
        std::copy_n(v.lossy.begin() + static_cast<std::ptrdiff_t>(sy + y) * v.width + sx, r.w,
                    source.begin() + static_cast<std::ptrdiff_t>(y) * r.w);
      for (int y = 0; y < r.h; ++y)
        std::copy_n(source.begin() + static_cast<std::ptrdiff_t>(y) * r.w, r.w,
                    v.lossy.begin() + static_cast<std::ptrdiff_t>(r.y + y) * v.width + r.x);
    } else if (e == Encoding::tight || e == Encoding::hextile || e == Encoding::raw || e == Encoding::rre ||
               e == Encoding::zrle) {
      set(r, e == Encoding::tight && !payload.empty() && (payload[0] >> 4) == 0x9 ? 1 : 0);
    }
  }

  // One change of the gateway's picture, told to every viewer as the session tells it.
  void change() {
    const int kind = pick(100);
    if (chance(spec_.resize) && step_ > 0) {
      static constexpr int kSizes[][2] = {{720, 400}, {640, 480}, {800, 600}, {1024, 768}, {333, 77},
                                          {64, 48},   {1, 1},     {517, 299}, {2049, 40},  {640, 400}};
      const auto& s = kSizes[pick(10)];
      resize(s[0], s[1]);
    } else if (kind < 40) {
      text_cells(1 + pick(kind < 20 ? 3 : 40));
    } else if (kind < 55) {
      cursor_blink();
    } else if (kind < 70) {
      scroll();
    } else if (kind < 78) {
      recolour_rows();
    } else if (kind < 83) {
      tiny_noise();
    } else if (kind < 86) {
      full_screen();
    } else if (kind < 86 + static_cast<int>(spec_.photo * 100)) {
      photo();
    } else {
      fill_area();
    }
  }

  void changed(const Rect& r) {
    const Rect inside = r.intersect(fb_.bounds());
    if (inside.empty()) return;
    for (auto& v : viewers_) v->server->framebuffer_changed(inside);
  }

  void resize(int w, int h) {
    fb_.resize(w, h);
    for (auto& v : viewers_) v->server->framebuffer_resized(w, h);
    paint_text({0, 0, w, h}, 0.8);
  }

  // Glyph-like two-colour cells: what a text console draws; only the part inside `clip` is painted.
  void paint_cell(int cx, int cy, Pixel fg, Pixel bg, double ink, const Rect& clip) {
    const Rect cell = Rect{cx * cell_w_, cy * cell_h_, cell_w_, cell_h_}.intersect(clip).intersect(fb_.bounds());
    const std::uint32_t glyph = static_cast<std::uint32_t>(rng_());
    const bool blank = !chance(ink);
    for (int y = cell.y; y < cell.bottom(); ++y)
      for (int x = cell.x; x < cell.right(); ++x) {
        const int gx = x - cx * cell_w_, gy = y - cy * cell_h_;
        const bool on = !blank && gy > 2 && gy < 13 && gx < 7 && ((glyph >> ((gx * 3 + gy * 5) % 31)) & 1);
        fb_.row(y)[x] = on ? fg : bg;
      }
  }
  void paint_text(const Rect& area, double ink) {
    for (int cy = area.y / cell_h_; cy * cell_h_ < area.bottom(); ++cy)
      for (int cx = area.x / cell_w_; cx * cell_w_ < area.right(); ++cx)
        paint_cell(cx, cy, vga(7 + (cy % 7 == 0 ? 3 : 0)), vga(0), ink, area);
    changed(area);
  }
  int cols() const { return (fb_.width() + cell_w_ - 1) / cell_w_; }
  int rows() const { return (fb_.height() + cell_h_ - 1) / cell_h_; }

  void text_cells(int n) {
    const int row = pick(rows()), col = pick(cols());
    const Pixel fg = vga(pick(16)), bg = chance(0.8) ? vga(0) : vga(pick(8));
    for (int i = 0; i < n; ++i) {
      const int cx = chance(0.7) ? (col + i) % cols() : pick(cols()), cy = chance(0.7) ? row : pick(rows());
      paint_cell(cx, cy, fg, bg, 0.9, fb_.bounds());
      changed({cx * cell_w_, cy * cell_h_, cell_w_, cell_h_});
    }
  }
  void cursor_blink() {
    const Rect r =
        Rect{pick(cols()) * cell_w_, pick(rows()) * cell_h_ + cell_h_ - 2, cell_w_, 2}.intersect(fb_.bounds());
    for (int y = r.y; y < r.bottom(); ++y)
      for (int x = r.x; x < r.right(); ++x) fb_.row(y)[x] ^= 0xaaaaaa;
    changed(r);
  }
  // A terminal scrolling (the whole screen or a region) by some lines, then writing the new ones.
  void scroll() {
    const int lines = 1 + pick(3), dy = lines * cell_h_;
    if (fb_.height() <= dy) return full_screen();
    Rect region = fb_.bounds();
    if (chance(0.3)) {
      const int top = pick(std::max(1, rows() / 2)) * cell_h_;
      region = Rect{0, top, fb_.width(), fb_.height() - top};
      if (region.h <= dy) return text_cells(3);
    }
    const Rect dst{region.x, region.y, region.w, region.h - dy};
    fb_.copy({region.x, region.y + dy, region.w, region.h - dy}, dst.x, dst.y);
    if (chance(0.5)) {
      for (auto& v : viewers_) v->server->framebuffer_copied(dst, region.x, region.y + dy);
    } else {  // in pieces around a cursor cell, as Xvnc reports an xterm's scroll: several CopyRects
      const int row = dst.y + pick(std::max(1, dst.h / cell_h_)) * cell_h_, col = pick(cols()) * cell_w_;
      const std::vector<Rect> pieces{{dst.x, dst.y, dst.w, row - dst.y},
                                     {dst.x, row, col, std::min(cell_h_, dst.bottom() - row)},
                                     {col, row, dst.right() - col, std::min(cell_h_, dst.bottom() - row)},
                                     {dst.x, row + cell_h_, dst.w, dst.bottom() - row - cell_h_}};
      std::vector<Rect> nonempty;
      for (const auto& piece : pieces)
        if (!piece.empty()) nonempty.push_back(piece);
      for (auto& v : viewers_) v->server->framebuffer_moved(nonempty, 0, -dy);
    }
    paint_text({region.x, region.bottom() - dy, region.w, dy}, 0.7);
  }
  void recolour_rows() {
    const int row = pick(rows()), n = 1 + pick(4);
    const Pixel fg = vga(8 + pick(8)), bg = vga(pick(8));
    for (int cy = row; cy < std::min(rows(), row + n); ++cy)
      for (int cx = 0; cx < cols(); ++cx) paint_cell(cx, cy, fg, bg, 0.6, fb_.bounds());
    changed({0, row * cell_h_, fb_.width(), n * cell_h_});
  }
  void tiny_noise() {
    for (int i = 0, n = 1 + pick(6); i < n; ++i) {
      const Rect r = Rect{pick(fb_.width()), pick(fb_.height()), 1 + pick(4), 1 + pick(4)}.intersect(fb_.bounds());
      for (int y = r.y; y < r.bottom(); ++y)
        for (int x = r.x; x < r.right(); ++x) fb_.row(y)[x] = static_cast<Pixel>(rng_()) & 0xffffff;
      changed(r);
    }
  }
  void full_screen() {
    if (chance(0.5)) {
      cell_w_ = chance(0.5) ? 8 : 9;
      cell_h_ = chance(0.8) ? 16 : 13;
    }
    fb_.fill(fb_.bounds(), vga(pick(2) ? 0 : 1));
    paint_text(fb_.bounds(), 0.3 + pick(70) / 100.0);
  }
  // Smooth colours with noise: thousands of colours, JPEG for viewers that asked for a quality.
  void photo() {
    const Rect r = Rect{pick(fb_.width()), pick(fb_.height()), 16 + pick(220), 16 + pick(160)}.intersect(fb_.bounds());
    const int base = pick(256);
    for (int y = r.y; y < r.bottom(); ++y)
      for (int x = r.x; x < r.right(); ++x) {
        const int n = pick(9) - 4;
        auto c = [&](int v) { return static_cast<unsigned>(std::clamp(v + n, 0, 255)); };
        fb_.row(y)[x] = framebuffer::make_pixel(c((base + x) & 0xff), c((y * 2) & 0xff), c((x + y) / 3 & 0xff));
      }
    changed(r);
  }
  void fill_area() {
    const Rect r = Rect{pick(fb_.width()), pick(fb_.height()), 1 + pick(300), 1 + pick(200)}.intersect(fb_.bounds());
    fb_.fill(r, vga(pick(16)));
    changed(r);
  }

  // The gateway's write loop for one viewer: plan, share or encode, send, and the viewer's next request.
  void serve(SimViewer& v) {
    if (v.stalled_until > step_) return;
    if (v.stalled_until == step_) {
      v.client->request_update(true);
      v.server->feed(v.client->take_output());
    }
    const auto plan = v.server->plan_update();
    if (!plan) return;
    const bool own = v.spec.alone && v.updates > 0 && (v.spec.share_every == 0 || v.updates % v.spec.share_every);
    if (!own) v.own.reset();
    if (own && !v.own) v.own = std::make_unique<rfb::ViewerEncoders>();
    const auto pixels =
        own ? std::make_shared<const rfb::EncodedPixels>(v.own->encode(fb_, plan->pixels.rects(), plan->params))
            : encodings_.get(*plan, [this]() -> const PixelBuffer& { return fb_; });
    if (!plan->pixels.empty()) ++v.updates;
    v.server->send_update(*plan, pixels.get());
    const auto bytes = v.server->take_output();
    trace_.record(TraceWriter::bytes, v.id, bytes);
    v.client->feed(bytes);
    // Our own decoder of the same bytes must agree with the picture first: a difference there is the gateway's
    // (or this generator's), not noVNC's.
    if (self_mismatch_.empty()) {
      const auto& decoded = v.client->framebuffer();
      for (int y = 0; y < fb_.height() && self_mismatch_.empty(); ++y)
        for (int x = 0; x < fb_.width(); ++x)
          if (!v.lossy[static_cast<std::size_t>(y) * v.width + x] && decoded.at(x, y) != fb_.at(x, y)) {
            self_mismatch_ = "viewer " + std::to_string(v.id) + " step " + std::to_string(step_) + " at " +
                             std::to_string(x) + "," + std::to_string(y);
            break;
          }
    }
    expect(v);
    ++updates_;
    if (chance(v.spec.stall)) {
      v.stalled_until = step_ + 1 + pick(6);
    } else {
      v.client->request_update(true);
      v.server->feed(v.client->take_output());
    }
  }

  // The picture the viewer must show now: a hash over exact pixels and, where JPEG went, vncgate's own decoding
  // of the same JPEG data (noVNC's must be close to it: both decode one JPEG; exact equality would be luck).
  // The hash (FNV-1a over 32-bit words) takes each pixel as the canvas holds it, RGBA read as a little-endian
  // word; JPEG-painted pixels count as 0.
  void expect(SimViewer& v) {
    std::uint32_t hash = 0x811c9dc5;
    std::vector<std::uint8_t> lossy_rgb;
    bool any_lossy = false;
    const auto& decoded = v.client->framebuffer();
    for (int y = 0; y < fb_.height(); ++y) {
      const Pixel* row = fb_.row(y);
      const std::uint8_t* lossy = v.lossy.data() + static_cast<std::size_t>(y) * v.width;
      for (int x = 0; x < fb_.width(); ++x) {
        const Pixel p = row[x];
        std::uint32_t word = 0;
        if (lossy[x]) {  // what libjpeg-turbo made of the JPEG rectangles there
          any_lossy = true;
          const Pixel d = decoded.at(x, y);
          for (const unsigned c : {framebuffer::red(d), framebuffer::green(d), framebuffer::blue(d)})
            lossy_rgb.push_back(static_cast<std::uint8_t>(c));
        } else {
          word = framebuffer::red(p) | framebuffer::green(p) << 8 | framebuffer::blue(p) << 16 | 0xff000000u;
        }
        hash = (hash ^ word) * 0x01000193u;
      }
    }
    std::vector<std::uint8_t> payload;
    TraceWriter::put32(payload, static_cast<std::uint32_t>(step_));
    TraceWriter::put16(payload, static_cast<unsigned>(fb_.width()));
    TraceWriter::put16(payload, static_cast<unsigned>(fb_.height()));
    TraceWriter::put32(payload, hash);
    const auto mask = any_lossy ? deflated(v.lossy) : std::vector<std::uint8_t>{};
    const auto rgb = any_lossy ? deflated(lossy_rgb) : std::vector<std::uint8_t>{};
    TraceWriter::put32(payload, static_cast<std::uint32_t>(mask.size()));
    payload.insert(payload.end(), mask.begin(), mask.end());
    TraceWriter::put32(payload, static_cast<std::uint32_t>(rgb.size()));
    payload.insert(payload.end(), rgb.begin(), rgb.end());
    trace_.record(TraceWriter::expect, v.id, payload);
  }

  RunSpec spec_;
  TraceWriter& trace_;
  std::mt19937 rng_;
  PixelBuffer fb_;
  int cell_w_ = 8, cell_h_ = 16;
  int step_ = 0;
  int updates_ = 0;
  rfb::SharedEncodings encodings_;
  std::vector<std::unique_ptr<SimViewer>> viewers_;
  std::string self_mismatch_;
};

std::string web_root_novnc() { return std::string(VNCGATE_WEB_ROOT) + "/novnc"; }

// Writes the trace, replays it in Chromium and checks the report.
void run_differential(const RunSpec& spec, int min_updates) {
  TempDir dir("vncgate-novnc-diff");
  const std::string trace_path = dir.file("trace.bin");
  int updates = 0;
  std::uint64_t encoded = 0, shared = 0;
  std::string self_mismatch;
  const auto started = std::chrono::steady_clock::now();
  {
    TraceWriter trace(trace_path);
    Generator generator(spec, trace);
    updates = generator.run();
    encoded = generator.encoded();
    shared = generator.shared();
    self_mismatch = generator.self_mismatch();
    ASSERT_TRUE(trace.good());
  }
  ASSERT_EQ(self_mismatch, "") << "vncgate's own decoder disagrees with the picture";
  ASSERT_GE(updates, min_updates);
  EXPECT_GT(shared, 0u) << "viewers with equal plans share encodings";
  const auto generated = std::chrono::steady_clock::now();
  const auto r = run_browser_check("novnc_decode_check.mjs",
                                   {"--trace", trace_path, "--novnc", web_root_novnc(), "--seed",
                                    std::to_string(spec.seed), "--min-psnr", "40", "--out-dir", dir.path()},
                                   dir.path(), std::chrono::minutes(8));
  const auto report = nlohmann::json::parse(r.report.empty() ? "{}" : r.report, nullptr, false);
  const auto seconds = [](auto d) { return std::chrono::duration<double>(d).count(); };
  std::printf(
      "seed %u: %d viewer updates (%llu encodings, %llu shared, %.1f MB) in %.1f s, noVNC checked %s in %.1f s, "
      "min JPEG PSNR %s\n",
      spec.seed, updates, static_cast<unsigned long long>(encoded), static_cast<unsigned long long>(shared),
      static_cast<double>(std::filesystem::file_size(trace_path)) / 1e6, seconds(generated - started),
      report.value("checks", nlohmann::json(0)).dump().c_str(), seconds(std::chrono::steady_clock::now() - generated),
      report.value("min_psnr", nlohmann::json(nullptr)).dump().c_str());
  if (r.exit_code != kBrowserOk) {  // keep the canvas of the first difference for a look
    const auto kept = std::filesystem::temp_directory_path() / ("vncgate-novnc-failure-" + std::to_string(spec.seed));
    std::filesystem::create_directories(kept);
    for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
      if (entry.path().extension() == ".png")
        std::filesystem::copy_file(entry.path(), kept / entry.path().filename(),
                                   std::filesystem::copy_options::overwrite_existing);
    std::printf("canvas of the first difference kept in %s\n", kept.c_str());
  }
  ASSERT_EQ(r.exit_code, kBrowserOk) << r.report << "\n" << r.log;
  EXPECT_EQ(report.value("checks", 0), updates) << "every update was compared";
}

Encoding c(int level) { return rfb::compress_level(level); }

TEST(NoVncDifferential, LosslessViewersOfEveryEncodingDecodeExactly) {
  RunSpec spec;
  spec.seed = 1301;
  spec.steps = 2500;
  spec.photo = 0.02;
  spec.viewers = {
      {"tight lossless, compression 6",
       {Encoding::copy_rect, Encoding::tight, Encoding::raw, c(6), Encoding::desktop_size,
        Encoding::extended_desktop_size},
       0,
       0},
      {"tight lossless, compression 1, no CopyRect", {Encoding::tight, c(1), Encoding::desktop_size}, 0, 0.05},
      {"hextile", {Encoding::copy_rect, Encoding::hextile, Encoding::raw, Encoding::desktop_size}, 300, 0},
      {"raw", {Encoding::raw, Encoding::extended_desktop_size}, 2150, 0},  // Raw is big: the last few hundred
      {"hextile, no CopyRect", {Encoding::hextile, Encoding::desktop_size}, 1700, 0},
      {"tight lossless, compression 6, alone (zlib history), shared every 97th",
       {Encoding::copy_rect, Encoding::tight, Encoding::raw, c(6), Encoding::desktop_size,
        Encoding::extended_desktop_size},
       10,
       0,
       true,
       97},
      {"tight lossless, compression 6 (late)",
       {Encoding::copy_rect, Encoding::tight, Encoding::raw, c(6), Encoding::desktop_size,
        Encoding::extended_desktop_size},
       1200,
       0},
  };
  run_differential(spec, 8000);
}

TEST(NoVncDifferential, NoVncsOwnRequestsWithJpegQualitiesDecode) {
  RunSpec spec;
  spec.seed = 1302;
  spec.steps = 2000;
  spec.photo = 0.04;
  spec.viewers = {
      {"noVNC defaults (quality 6, compression 2)", novnc_encodings(6, 2), 0, 0},
      {"noVNC defaults, joins at 400", novnc_encodings(6, 2), 400, 0},
      {"noVNC defaults, slow link", novnc_encodings(6, 2), 50, 0.2},
      {"noVNC defaults, alone (zlib history)", novnc_encodings(6, 2), 20, 0.05, true, 0},
      {"noVNC quality 0, compression 9", novnc_encodings(0, 9), 700, 0},
      {"noVNC quality 9, compression 0", novnc_encodings(9, 0), 1300, 0.05},
  };
  run_differential(spec, 5000);
}

TEST(NoVncDifferential, ResizesAndViewersJoiningAllAlong) {
  RunSpec spec;
  spec.seed = 1303;
  spec.steps = 1500;
  spec.resize = 0.03;
  spec.photo = 0.03;
  for (int i = 0; i < 8; ++i) {
    const int join = i * 170;
    switch (i % 4) {
      case 0: spec.viewers.push_back({"noVNC defaults #" + std::to_string(i), novnc_encodings(6, 2), join, 0.1}); break;
      case 1:
        spec.viewers.push_back({"tight lossless #" + std::to_string(i),
                                {Encoding::copy_rect, Encoding::tight, c(3), Encoding::desktop_size},
                                join,
                                0});
        break;
      case 2:
        spec.viewers.push_back({"hextile #" + std::to_string(i),
                                {Encoding::hextile, Encoding::copy_rect, Encoding::extended_desktop_size},
                                join,
                                0.1});
        break;
      default: spec.viewers.push_back({"raw #" + std::to_string(i), {Encoding::raw, Encoding::desktop_size}, join, 0});
    }
  }
  run_differential(spec, 5000);
}

}  // namespace
}  // namespace vncgate::test
