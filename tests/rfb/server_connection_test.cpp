// SPDX-License-Identifier: Apache-2.0
#include "rfb/server_connection.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>

#include "rfb/client_connection.hpp"
#include "rfb/decoders/decoder_test_util.hpp"
#include "rfb/encoders/pixel_writer.hpp"
#include "support/image.hpp"
#include "util/error.hpp"

namespace vncgate::rfb {
namespace {

using framebuffer::PixelBuffer;
using framebuffer::Rect;

// A picture with flat areas (palette tiles), a gradient (raw tiles) and an odd size (partial tiles).
PixelBuffer test_picture(int width, int height, unsigned seed) {
  PixelBuffer fb(width, height);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      const bool text_area = y < height / 2;
      fb.row(y)[x] = text_area ? ((x / 3 + y / 5 + seed) % 4 == 0 ? 0xc0c0c0u : 0x000000u)
                               : framebuffer::make_pixel((x * 7 + seed) & 0xff, (y * 5) & 0xff, (x * y + seed) & 0xff);
    }
  return fb;
}

// What a viewer in format `pf` can hold of `source`: each pixel through the wire format and back.
PixelBuffer as_seen_in(const PixelBuffer& source, const PixelFormat& pf) {
  PixelWriter writer(pf);
  PixelConverter conv(pf);
  if (!pf.true_colour) {
    const auto map = PixelWriter::colour_map();
    conv.set_colour_map_entries(0, map);
  }
  PixelBuffer out(source.width(), source.height());
  for (int y = 0; y < source.height(); ++y)
    for (int x = 0; x < source.width(); ++x) out.row(y)[x] = conv.from_value(writer.value(source.at(x, y)));
  return out;
}

void expect_same(const PixelBuffer& a, const PixelBuffer& b, const std::string& what) {
  ASSERT_EQ(a.width(), b.width()) << what;
  ASSERT_EQ(a.height(), b.height()) << what;
  for (int y = 0; y < a.height(); ++y)
    for (int x = 0; x < a.width(); ++x) ASSERT_EQ(a.at(x, y), b.at(x, y)) << what << " at " << x << "," << y;
}

// Pipes bytes both ways until neither side has anything to say.
void pump(ClientConnection& client, ServerConnection& server, const PixelBuffer& fb) {
  for (int round = 0; round < 100; ++round) {
    bool moved = false;
    if (client.has_output()) {
      server.feed(client.take_output());
      moved = true;
    }
    server.send_update(fb);
    if (server.has_output()) {
      client.feed(server.take_output());
      moved = true;
    }
    if (!moved) return;
  }
  FAIL() << "connection did not settle";
}

struct FormatCase {
  const char* name;
  PixelFormat pf;
};

std::vector<FormatCase> formats() {
  PixelFormat be32 = PixelFormat::canonical();
  be32.big_endian = true;
  PixelFormat high32 = PixelFormat::canonical();  // colour in the high three bytes: CPIXEL is the top 3
  high32.red_shift = 24;
  high32.green_shift = 16;
  high32.blue_shift = 8;
  PixelFormat be565 = PixelFormat::rgb565();
  be565.big_endian = true;
  PixelFormat bgr32 = PixelFormat::canonical();
  bgr32.red_shift = 0;
  bgr32.blue_shift = 16;
  return {{"canonical", PixelFormat::canonical()},
          {"be32", be32},
          {"high32", high32},
          {"bgr32", bgr32},
          {"rgb565", PixelFormat::rgb565()},
          {"be565", be565},
          {"bgr233", PixelFormat::bgr233()},
          {"colourmap8", PixelFormat::colour_map8()}};
}

class ServerConnectionFormats : public testing::TestWithParam<std::tuple<FormatCase, Encoding>> {};

TEST_P(ServerConnectionFormats, ViewerDecodesExactlyWhatItsFormatHolds) {
  const auto& [format, encoding] = GetParam();
  const std::string what = std::string(format.name) + "/" + encoding_name(static_cast<std::int32_t>(encoding));
  PixelBuffer fb = test_picture(150, 90, 1);
  ServerConnection server({}, fb.width(), fb.height());
  ClientOptions options;
  options.pixel_format = format.pf;
  options.encodings = {encoding, Encoding::raw, Encoding::desktop_size, Encoding::extended_desktop_size};
  ClientConnection client(options);
  client.feed(server.take_output());
  pump(client, server, fb);
  ASSERT_TRUE(client.ready());
  ASSERT_TRUE(client.frame_complete()) << what;
  expect_same(client.framebuffer(), as_seen_in(fb, format.pf), what + " first frame");
  EXPECT_GT(client.stats().count(static_cast<std::int32_t>(encoding)), 0u) << what;

  // A change in part of the screen travels as an incremental update.
  const Rect changed{70, 10, 40, 60};
  const PixelBuffer other = test_picture(150, 90, 7);
  for (int y = changed.y; y < changed.bottom(); ++y)
    for (int x = changed.x; x < changed.right(); ++x) fb.row(y)[x] = other.at(x, y);
  server.framebuffer_changed(changed);
  client.request_update(true);
  pump(client, server, fb);
  expect_same(client.framebuffer(), as_seen_in(fb, format.pf), what + " after change");

  // A resize reaches the viewer with the whole new picture.
  fb = test_picture(200, 64, 3);
  server.framebuffer_resized(fb.width(), fb.height());
  client.request_update(true);
  pump(client, server, fb);
  expect_same(client.framebuffer(), as_seen_in(fb, format.pf), what + " after resize");
}

INSTANTIATE_TEST_SUITE_P(AllFormats, ServerConnectionFormats,
                         testing::Combine(testing::ValuesIn(formats()),
                                          testing::Values(Encoding::raw, Encoding::zrle, Encoding::tight,
                                                          Encoding::hextile)),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param).name) + "_" +
                                  encoding_name(static_cast<std::int32_t>(std::get<1>(info.param)));
                         });

// A connected viewer with `encodings` that holds the first frame of `fb`.
struct Viewer {
  ServerConnection server;
  ClientConnection client;
  std::vector<std::pair<Rect, std::vector<std::uint8_t>>> rects;  // every decoded rectangle and its payload

  Viewer(const PixelBuffer& fb, std::vector<Encoding> encodings, PixelFormat pf = PixelFormat::canonical())
      : server({}, fb.width(), fb.height()), client([&] {
          ClientOptions options;
          options.pixel_format = pf;
          options.encodings = std::move(encodings);
          return options;
        }()) {
    client.set_rect_observer([this](Encoding, const Rect& r, std::span<const std::uint8_t> payload) {
      rects.emplace_back(r, std::vector<std::uint8_t>(payload.begin(), payload.end()));
    });
    client.feed(server.take_output());
    pump(client, server, fb);
  }
  // Tight control bytes' compression type (high nibble) of the rectangles decoded so far.
  std::vector<unsigned> tight_types() const {
    std::vector<unsigned> types;
    for (const auto& [r, payload] : rects) types.push_back(payload.at(0) >> 4);
    return types;
  }
};

PixelBuffer crop(const PixelBuffer& fb, const Rect& r) {
  PixelBuffer out(r.w, r.h);
  out.put({0, 0, r.w, r.h}, fb.row(r.y) + r.x, fb.width());
  return out;
}

TEST(ServerConnection_Choice, FirstEncodingWeSupportInTheViewersOrderWins) {
  const PixelBuffer fb = test_picture(40, 20, 0);
  auto choice = [&](std::vector<Encoding> offered) {
    offered.push_back(Encoding::desktop_size);
    Viewer v(fb, offered);
    expect_same(v.client.framebuffer(), fb, "choice");
    return v.server.pixel_encoding();
  };
  EXPECT_EQ(choice({Encoding::copy_rect, Encoding::hextile, Encoding::tight, Encoding::raw}), Encoding::hextile);
  EXPECT_EQ(choice({Encoding::zlib, Encoding::zrle, Encoding::tight}), Encoding::zrle);
  EXPECT_EQ(choice({Encoding::tight, Encoding::zrle, Encoding::hextile, Encoding::raw}), Encoding::tight);
  EXPECT_EQ(choice({Encoding::rre, Encoding::raw, Encoding::tight}), Encoding::raw);
  EXPECT_EQ(choice({Encoding::rre}), Encoding::raw);  // nothing we encode: Raw, which every viewer decodes
}

TEST(ServerConnection_Tight, TextStaysLosslessThroughFillAndPaletteEvenWithJpeg) {
  PixelBuffer fb(300, 200);
  fb.fill({0, 0, 300, 200}, 0x0000aa);
  for (int y = 40; y < 120; ++y)  // "text": two colours on the blue background
    for (int x = 10; x < 290; ++x)
      if ((x * 3 + y * 7) % 11 < 3) fb.row(y)[x] = (x / 40) % 2 ? 0xffffffu : 0xffff55u;
  Viewer v(fb, {Encoding::tight, quality_level(5), compress_level(6), Encoding::desktop_size});
  expect_same(v.client.framebuffer(), fb, "text with jpeg allowed");
  for (unsigned type : v.tight_types()) EXPECT_NE(type, 0x9u) << "JPEG on a text screen";

  fb.fill({0, 0, 300, 200}, 0x123456);  // one colour: a fill, the smallest rectangle there is
  v.server.framebuffer_changed(fb.bounds());
  v.rects.clear();
  v.client.request_update(true);
  pump(v.client, v.server, fb);
  expect_same(v.client.framebuffer(), fb, "solid");
  ASSERT_EQ(v.rects.size(), 1u);
  EXPECT_EQ(v.rects[0].second, (std::vector<std::uint8_t>{0x80, 0x12, 0x34, 0x56}));  // TPIXEL: 3 bytes
}

TEST(ServerConnection_Tight, PhotoGoesAsJpegWithinPsnrAndTextBesideItExact) {
  // Top 128 rows text-like, bottom 128 rows a smooth photo-like gradient with noise: 64x64 tiles split them.
  PixelBuffer fb(256, 256);
  for (int y = 0; y < 256; ++y)
    for (int x = 0; x < 256; ++x)
      fb.row(y)[x] = y < 128 ? ((x + y) % 5 == 0 ? 0xaaaaaau : 0u)
                             : framebuffer::make_pixel(x, (y * 2) & 0xff, ((x + y) / 2 + (x * y) % 7) & 0xff);
  Viewer v(fb, {Encoding::tight, quality_level(8), Encoding::desktop_size});
  const auto types = v.tight_types();
  EXPECT_NE(std::find(types.begin(), types.end(), 0x9u), types.end()) << "no JPEG for the photo";
  expect_same(crop(v.client.framebuffer(), {0, 0, 256, 128}), crop(fb, {0, 0, 256, 128}), "text half");
  const double quality = vncgate::test::psnr(fb, v.client.framebuffer(), {0, 128, 256, 128});
  EXPECT_GT(quality, 30.0);
  EXPECT_LT(quality, 99.0);  // lossy, so JPEG really was decoded

  // Without a quality level the same photo is exact.
  Viewer lossless(fb, {Encoding::tight, Encoding::desktop_size});
  expect_same(lossless.client.framebuffer(), fb, "no quality level");
  for (unsigned type : lossless.tight_types()) EXPECT_NE(type, 0x9u);
}

TEST(ServerConnection_Tight, ZlibStreamsStayInStepAcrossManyUpdatesAndLevelChanges) {
  PixelBuffer fb = test_picture(320, 200, 0);
  Viewer v(fb, {Encoding::tight, compress_level(1), Encoding::desktop_size});
  std::uint32_t seed = 12345;
  auto next = [&seed](int n) {
    seed = seed * 1103515245u + 12345u;
    return static_cast<int>((seed >> 8) % static_cast<unsigned>(n));
  };
  for (int round = 0; round < 120; ++round) {
    const Rect r{next(280), next(160), 1 + next(40), 1 + next(40)};
    const PixelBuffer other = test_picture(320, 200, static_cast<unsigned>(round));
    const int kind = next(3);  // gradient (stream 0), two colours (1), a few colours (2)
    for (int y = r.y; y < r.bottom(); ++y)
      for (int x = r.x; x < r.right(); ++x)
        fb.row(y)[x] = kind == 0   ? other.at(x, y)
                       : kind == 1 ? ((x ^ y) & 1 ? 0xffffffu : 0x000080u)
                                   : 0x101010u * static_cast<unsigned>((x + y + round) % 5);
    v.server.framebuffer_changed(r);
    if (round % 40 == 39)  // a new compression level: the viewer's streams carry on
      v.client.send_set_encodings({Encoding::tight, compress_level(round / 40 * 4 + 2), Encoding::desktop_size});
    v.client.request_update(true);
    pump(v.client, v.server, fb);
    expect_same(v.client.framebuffer(), fb, "round " + std::to_string(round));
    if (HasFatalFailure()) return;
  }
  // noVNC 1.3's inflater (pako) keeps no window after a reset: the streams are never reset, and each one's
  // zlib header (0x78) comes once, with its first data.
  int headers[4] = {};
  for (const auto& [r, payload] : v.rects) {
    EXPECT_EQ(payload[0] & 0x0f, 0) << "reset bits in rectangle at " << r.x << "," << r.y;
    const unsigned type = payload[0] >> 4;
    if (type & 0x8) continue;  // fill or JPEG: no zlib
    std::size_t at = 1;
    const bool palette = (type & 0x4) && payload[1] == 1;
    if (type & 0x4) at += palette ? 2 + (payload[2] + 1u) * 3 : 1;  // filter id (+ palette)
    const auto w = static_cast<std::size_t>(r.w), h = static_cast<std::size_t>(r.h);
    const std::size_t raw = !palette ? w * h * 3 : payload[2] == 1 ? (w + 7) / 8 * h : w * h;
    if (raw < 12) continue;           // short data goes uncompressed
    while (payload[at] & 0x80) ++at;  // compact length
    headers[type & 3] += payload[at + 1] == 0x78;
  }
  for (const int stream : {0, 1, 2}) EXPECT_EQ(headers[stream], 1) << "stream " << stream;
}

// A palette costs 3 bytes a colour, uncompressed: anti-aliased text with many colours for its size goes as full
// colour through zlib (at most area / (8 x compression level) colours make a palette, as in TigerVNC); the
// same colours over a bigger area still make one.
TEST(ServerConnection_Tight, ManyColoursForTheirSizeGoAsFullColour) {
  auto shades = [](int w, int h) {  // 119 greys, like the edges of anti-aliased glyphs
    PixelBuffer fb(w, h);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) fb.row(y)[x] = 0x010101u * static_cast<unsigned>((x * 7 + y * 3) % 119);
    return fb;
  };
  const PixelBuffer glyphs = shades(56, 16);  // 896 pixels: a palette of at most 56 colours at level 2
  Viewer small(glyphs, {Encoding::tight, compress_level(2), Encoding::desktop_size});
  expect_same(small.client.framebuffer(), glyphs, "56x16");
  EXPECT_EQ(small.tight_types(), std::vector<unsigned>{0u}) << "full colour, stream 0, no filter";

  const PixelBuffer wide = shades(320, 64);  // 20 480 pixels: 1280 colours would still be worth a palette
  Viewer big(wide, {Encoding::tight, compress_level(2), Encoding::desktop_size});
  expect_same(big.client.framebuffer(), wide, "320x64");
  ASSERT_EQ(big.rects.size(), 1u);
  EXPECT_EQ(big.rects[0].second.at(0), 0x60u) << "stream 2, explicit filter";
  EXPECT_EQ(big.rects[0].second.at(1), 1u) << "the palette filter";
  EXPECT_EQ(big.rects[0].second.at(2), 118u) << "119 colours";

  // With JPEG allowed the small area stays lossless: JPEG is for more than 256 colours.
  Viewer jpeg_ok(glyphs, {Encoding::tight, quality_level(6), compress_level(2), Encoding::desktop_size});
  expect_same(jpeg_ok.client.framebuffer(), glyphs, "56x16 with a JPEG quality");
  EXPECT_EQ(jpeg_ok.tight_types(), std::vector<unsigned>{0u});
}

TEST(ServerConnection_Tight, LargeRectanglesAreSplitToTheSpecLimits) {
  const PixelBuffer fb = test_picture(3000, 100, 5);
  for (const auto& [name, pf] : formats()) {
    Viewer v(fb, {Encoding::tight, Encoding::desktop_size}, pf);
    expect_same(v.client.framebuffer(), as_seen_in(fb, pf), name);
    // 2048 + 952 columns; 65536 pixels each: 32-row bands, then 68-row bands.
    EXPECT_EQ(v.rects.size(), 6u) << name;
    for (const auto& [r, payload] : v.rects) {
      EXPECT_LE(r.w, 2048) << name;
      EXPECT_LE(r.area(), 65536) << name;
    }
  }
}

TEST(ServerConnection_Hextile, SolidAndTwoColourTilesAreSmallerThanRaw) {
  PixelBuffer fb(160, 96);
  fb.fill(fb.bounds(), 0x202020);
  for (int y = 20; y < 60; ++y)
    for (int x = 5; x < 150; ++x)
      if ((x / 2 + y) % 6 == 0) fb.row(y)[x] = 0xe0e0e0;
  for (const auto& [name, pf] : formats()) {
    Viewer v(fb, {Encoding::hextile, Encoding::desktop_size}, pf);
    expect_same(v.client.framebuffer(), as_seen_in(fb, pf), name);
    ASSERT_EQ(v.rects.size(), 1u);
    EXPECT_LT(v.rects[0].second.size() * 4, static_cast<std::size_t>(fb.bounds().area() * pf.bytes_per_pixel()))
        << name;
  }
}

TEST(ServerConnection_Auth, VncAuthenticationWithRightPasswordConnects) {
  const PixelBuffer fb = test_picture(20, 10, 0);
  ServerOptions so;
  so.password = "secret12";
  ServerConnection server(so, fb.width(), fb.height());
  ClientOptions co;
  co.password = "secret12";
  ClientConnection client(co);
  client.feed(server.take_output());
  pump(client, server, fb);
  ASSERT_TRUE(client.ready());
  expect_same(client.framebuffer(), fb, "vnc auth");
}

TEST(ServerConnection_Auth, WrongPasswordIsRefusedWithReason) {
  ServerOptions so;
  so.password = "secret12";
  ServerConnection server(so, 4, 4);
  ClientOptions co;
  co.password = "wrong";
  ClientConnection client(co);
  std::string refusal;
  try {
    for (int i = 0; i < 5; ++i) {
      client.feed(server.take_output());
      server.feed(client.take_output());
    }
  } catch (const AuthError& e) {
    refusal = e.what();
  }
  EXPECT_EQ(refusal, "Authentication failed");
  EXPECT_TRUE(server.closed());
  EXPECT_EQ(server.close_reason(), "Authentication failed");
}

TEST(ServerConnection_Versions, Accepts33And37Viewers) {
  for (const char* version : {"RFB 003.003\n", "RFB 003.007\n", "RFB 003.005\n"}) {
    ServerConnection server({}, 2, 1);
    (void)server.take_output();
    server.feed({reinterpret_cast<const std::uint8_t*>(version), 12});
    auto out = server.take_output();
    const bool v37 = std::string(version) == "RFB 003.007\n";
    if (v37) {
      EXPECT_EQ(out, (std::vector<std::uint8_t>{1, 1}));
      server.feed(std::vector<std::uint8_t>{1});
      EXPECT_TRUE(server.take_output().empty());  // no SecurityResult for None in 3.7
    } else {
      EXPECT_EQ(out, (std::vector<std::uint8_t>{0, 0, 0, 1}));
    }
    server.feed(std::vector<std::uint8_t>{1});  // ClientInit
    EXPECT_TRUE(server.ready()) << version;
    EXPECT_EQ(server.take_output().size(), 24u + 7);  // ServerInit with "vncgate"
  }
}

struct Inputs : ServerListener {
  std::vector<std::string> events;
  void on_key(std::uint32_t k, bool d) override {
    events.push_back("key " + std::to_string(k) + (d ? " down" : " up"));
  }
  void on_qemu_key(std::uint32_t k, std::uint32_t c, bool d) override {
    events.push_back("qkey " + std::to_string(k) + " " + std::to_string(c) + (d ? " down" : " up"));
  }
  void on_pointer(int x, int y, std::uint8_t b) override {
    events.push_back("ptr " + std::to_string(x) + "," + std::to_string(y) + " " + std::to_string(b));
  }
  void on_cut_text(const std::string& t) override { events.push_back("cut " + t); }
};

TEST(ServerConnection_Messages, InputReachesListener) {
  Inputs inputs;
  PixelBuffer fb(8, 8);
  ServerConnection server({}, 8, 8, &inputs);
  ClientOptions co;
  co.encodings = {Encoding::raw, Encoding::qemu_extended_key_event};
  ClientConnection client(co);
  client.feed(server.take_output());
  pump(client, server, fb);
  ASSERT_TRUE(client.qemu_extended_keys());  // announced by the server's first update
  client.send_key(0x61, true);
  client.send_pointer(3, 4, 1);
  client.send_cut_text("hello");
  EXPECT_TRUE(client.send_qemu_key(0x61, 0x1e, false));
  pump(client, server, fb);
  EXPECT_EQ(inputs.events, (std::vector<std::string>{"key 97 down", "ptr 3,4 1", "cut hello", "qkey 97 30 up"}));
}

TEST(ServerConnection_Messages, MalformedInputThrowsProtocolError) {
  auto connected = [] {
    auto s = std::make_unique<ServerConnection>(ServerOptions{}, 4, 4);
    const std::string hello = "RFB 003.008\n";
    s->feed({reinterpret_cast<const std::uint8_t*>(hello.data()), hello.size()});
    s->feed(std::vector<std::uint8_t>{1, 1});
    EXPECT_TRUE(s->ready());
    return s;
  };
  EXPECT_THROW(connected()->feed(std::vector<std::uint8_t>{99}), ProtocolError);
  // SetPixelFormat with 24 bpp.
  EXPECT_THROW(
      connected()->feed(std::vector<std::uint8_t>{0, 0, 0, 0, 24, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0}),
      ProtocolError);
  EXPECT_THROW(connected()->feed(std::vector<std::uint8_t>{6, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff}), ProtocolError);
  EXPECT_THROW(connected()->feed(std::vector<std::uint8_t>{255, 9}), ProtocolError);
  ServerConnection fresh({}, 4, 4);
  const std::string http = "GET / HTTP/1.1\r\n";
  EXPECT_THROW(fresh.feed({reinterpret_cast<const std::uint8_t*>(http.data()), http.size()}), ProtocolError);
}

// Encoding numbers at the ends of the int32 range (fuzz_viewer_messages found an overflow, UB, there).
TEST(ServerConnection_Messages, ExtremeEncodingNumbersAreIgnored) {
  ServerConnection server({}, 4, 4);
  const std::string hello = "RFB 003.008\n";
  server.feed({reinterpret_cast<const std::uint8_t*>(hello.data()), hello.size()});
  server.feed(std::vector<std::uint8_t>{1, 1});
  server.feed(std::vector<std::uint8_t>{2, 0, 0, 2, 0x7f, 0xff, 0xff, 0xff, 0x80, 0, 0, 0});
  EXPECT_EQ(server.pixel_encoding(), Encoding::raw);
  EXPECT_EQ(server.pixel_params().compress_level, 1);
  EXPECT_EQ(server.pixel_params().jpeg_quality, -1);
}

TEST(ServerConnection_Updates, IncrementalRequestWaitsForAChange) {
  PixelBuffer fb = test_picture(16, 16, 2);
  ServerConnection server({}, 16, 16);
  ClientConnection client(ClientOptions{});
  client.feed(server.take_output());
  pump(client, server, fb);
  const auto before = client.updates_completed();
  client.request_update(true);
  pump(client, server, fb);
  EXPECT_EQ(client.updates_completed(), before);  // nothing changed: the request stays pending
  EXPECT_TRUE(server.update_requested());
  fb.fill({0, 0, 4, 4}, 0xffffff);
  server.framebuffer_changed({0, 0, 4, 4});
  pump(client, server, fb);
  EXPECT_EQ(client.updates_completed(), before + 1);
  expect_same(client.framebuffer(), fb, "after change");
}

TEST(ServerConnection_Updates, ViewerWithoutResizeSupportIsClosedOnResize) {
  PixelBuffer fb(4, 4);
  ServerConnection server({}, 4, 4);
  ClientOptions co;
  co.encodings = {Encoding::raw};
  ClientConnection client(co);
  client.feed(server.take_output());
  pump(client, server, fb);
  server.framebuffer_resized(8, 8);
  EXPECT_TRUE(server.closed());
  EXPECT_NE(server.close_reason().find("cannot follow"), std::string::npos);
}

}  // namespace
}  // namespace vncgate::rfb

namespace vncgate::rfb {
namespace {

struct Resizes : ServerListener {
  std::vector<std::pair<int, int>> sizes;
  void on_set_desktop_size(int w, int h) override { sizes.emplace_back(w, h); }
};

TEST(ServerConnection_Messages, SetDesktopSizeReachesListener_OnlyAfterServerShowedSupport) {
  Resizes resizes;
  PixelBuffer fb(8, 8);
  ServerConnection server({}, 8, 8, &resizes);
  ClientConnection client(ClientOptions{});
  client.feed(server.take_output());
  pump(client, server, fb);
  EXPECT_FALSE(client.send_set_desktop_size(640, 480)) << "no ExtendedDesktopSize seen yet";
  fb.resize(16, 8);
  server.framebuffer_resized(16, 8);  // announced with ExtendedDesktopSize (the client asks for it)
  client.request_update(true);
  pump(client, server, fb);
  ASSERT_TRUE(client.extended_desktop_size());
  EXPECT_TRUE(client.send_set_desktop_size(640, 480));
  pump(client, server, fb);
  EXPECT_EQ(resizes.sizes, (std::vector<std::pair<int, int>>{{640, 480}}));
  const std::vector<std::uint8_t> empty_layout{251, 0, 0, 10, 0, 10, 0, 0};
  EXPECT_THROW(server.feed(empty_layout), ProtocolError);
}

// Paints a random-ish change into `fb` (gradient, two colours or a few colours) and returns where.
Rect paint_change(PixelBuffer& fb, int round) {
  const Rect r{(round * 37) % (fb.width() - 40), (round * 23) % (fb.height() - 40), 8 + round % 30, 5 + round % 33};
  const PixelBuffer other = test_picture(fb.width(), fb.height(), static_cast<unsigned>(round));
  for (int y = r.y; y < r.bottom(); ++y)
    for (int x = r.x; x < r.right(); ++x)
      fb.row(y)[x] = round % 3 == 0   ? other.at(x, y)
                     : round % 3 == 1 ? ((x ^ y) & 1 ? 0xffffffu : 0x000080u)
                                      : 0x101010u * static_cast<unsigned>((x + y + round) % 5);
  return r;
}

// The gateway's fan-out: each change is encoded once and the same bytes go to a viewer that has been there
// from the start and to one that joined later (its zlib inflaters fresh). Both must decode exactly.
class SharedEncoding : public testing::TestWithParam<Encoding> {};

TEST_P(SharedEncoding, OneEncodingServesViewersThatJoinedAtDifferentTimes) {
  PixelBuffer fb = test_picture(200, 120, 0);
  const std::vector<Encoding> encodings{GetParam(), compress_level(3), Encoding::desktop_size};
  std::vector<std::unique_ptr<Viewer>> viewers;
  viewers.push_back(std::make_unique<Viewer>(fb, encodings));
  for (int round = 0; round < 60; ++round) {
    if (round == 20 || round == 41) viewers.push_back(std::make_unique<Viewer>(fb, encodings));
    const Rect changed = paint_change(fb, round);
    std::optional<UpdatePlan> first;
    std::shared_ptr<EncodedPixels> pixels;
    for (auto& v : viewers) {
      v->server.framebuffer_changed(changed);
      v->client.request_update(true);
      v->server.feed(v->client.take_output());
      const auto plan = v->server.plan_update();
      ASSERT_TRUE(plan);
      if (!first) {
        first = plan;
        pixels = std::make_shared<EncodedPixels>(encode_pixels(fb, plan->pixels.rects(), plan->params));
      }
      ASSERT_TRUE(plan->pixels == first->pixels);
      ASSERT_TRUE(plan->params == first->params);
      v->server.send_update(*plan, pixels.get());
      v->client.feed(v->server.take_output());
      expect_same(v->client.framebuffer(), fb, "round " + std::to_string(round));
      if (HasFatalFailure()) return;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Encodings, SharedEncoding,
                         testing::Values(Encoding::tight, Encoding::zrle, Encoding::hextile, Encoding::raw),
                         [](const testing::TestParamInfo<Encoding>& info) {
                           return encoding_name(static_cast<std::int32_t>(info.param));
                         });

// A viewer alone (AsyncServer::encode): its own encoders' zlib streams keep their history, so content it was sent
// before (a terminal's repeated words) costs back-references. It decodes every update exactly, through a spell of
// shared encodings (a second viewer came) and fresh own encoders after it (the other left), and gets well under
// the bytes of the same updates encoded without history, which a second viewer receives alongside.
class OwnEncoders : public testing::TestWithParam<Encoding> {};

TEST_P(OwnEncoders, HistoryMakesRepeatsCheapAndSwitchingStaysExact) {
  PixelBuffer fb = test_picture(240, 160, 0);
  // Words stamped somewhere else every update, in turn, beside a change seen once (so a reference into the
  // wrong history shows).
  const PixelBuffer words[] = {test_picture(48, 12, 97), test_picture(48, 12, 98), test_picture(48, 12, 99)};
  const std::vector<Encoding> encodings{GetParam(), compress_level(6), Encoding::desktop_size};
  Viewer alone(fb, encodings), other(fb, encodings);
  auto own = std::make_unique<ViewerEncoders>();
  std::size_t own_bytes = 0, shared_bytes = 0;
  for (int round = 0; round < 60; ++round) {
    const Rect r{(round * 53) % (fb.width() - 48), (round * 29) % (fb.height() - 12), 48, 12};
    fb.put(r, words[round % 3].row(0), 48);
    const Rect once = paint_change(fb, round);
    std::optional<UpdatePlan> plan;
    for (Viewer* v : {&alone, &other}) {
      v->server.framebuffer_changed(r);
      v->server.framebuffer_changed(once);
      v->client.request_update(true);
      v->server.feed(v->client.take_output());
      plan = v->server.plan_update();
      ASSERT_TRUE(plan);
    }
    const bool together = round >= 20 && round < 30;
    if (round == 30) own = std::make_unique<ViewerEncoders>();
    const auto shared = encode_pixels(fb, plan->pixels.rects(), plan->params);
    const auto mine = together ? shared : own->encode(fb, plan->pixels.rects(), plan->params);
    alone.server.send_update(*plan, &mine);
    other.server.send_update(*plan, &shared);
    for (auto [v, bytes] : {std::pair{&alone, &own_bytes}, std::pair{&other, &shared_bytes}}) {
      const auto out = v->server.take_output();
      if (!together) *bytes += out.size();
      v->client.feed(out);
      expect_same(v->client.framebuffer(), fb, "round " + std::to_string(round));
      if (HasFatalFailure()) return;
    }
  }
  EXPECT_LT(own_bytes * 2, shared_bytes) << "own " << own_bytes << " shared " << shared_bytes;
}

INSTANTIATE_TEST_SUITE_P(Encodings, OwnEncoders, testing::Values(Encoding::tight, Encoding::zrle),
                         [](const testing::TestParamInfo<Encoding>& info) {
                           return encoding_name(static_cast<std::int32_t>(info.param));
                         });

// Scrolls `fb` up by `lines` rows and paints new rows at the bottom, as a terminal does.
void scroll(PixelBuffer& fb, int lines, unsigned seed) {
  fb.copy({0, lines, fb.width(), fb.height() - lines}, 0, 0);
  const PixelBuffer fresh = test_picture(fb.width(), lines, seed);
  fb.put({0, fb.height() - lines, fb.width(), lines}, fresh.row(0), fresh.width());
}

TEST(ServerConnection_CopyRect, ScrollGoesAsCopyRectPlusTheNewRows) {
  PixelBuffer fb = test_picture(160, 100, 0);
  Viewer v(fb, {Encoding::copy_rect, Encoding::tight, Encoding::desktop_size});
  v.rects.clear();
  scroll(fb, 10, 1);
  v.server.framebuffer_copied({0, 0, 160, 90}, 0, 10);
  v.server.framebuffer_changed({0, 90, 160, 10});
  v.client.request_update(true);
  pump(v.client, v.server, fb);
  expect_same(v.client.framebuffer(), fb, "after the scroll");
  ASSERT_FALSE(v.rects.empty());
  EXPECT_EQ(v.rects.front().first, (Rect{0, 0, 160, 90}));  // the CopyRect comes first
  EXPECT_EQ(v.rects.front().second.size(), 4u);
  for (std::size_t i = 1; i < v.rects.size(); ++i) EXPECT_GE(v.rects[i].first.y, 90);
}

bool has_copy_rect(const Viewer& v) {
  return std::any_of(v.rects.begin(), v.rects.end(), [](const auto& rect) { return rect.second.size() == 4; });
}

TEST(ServerConnection_CopyRect, UnsentChangesInTheSourceMoveWithTheCopy_ViewersWithoutCopyRectGetPixels) {
  PixelBuffer fb = test_picture(160, 100, 0);
  Viewer with(fb, {Encoding::copy_rect, Encoding::zrle, Encoding::desktop_size});
  Viewer without(fb, {Encoding::zrle, Encoding::desktop_size});
  // A change inside the copy's source that the viewers have not been sent yet.
  for (int y = 20; y < 30; ++y)
    for (int x = 0; x < 50; ++x) fb.row(y)[x] = 0x00ff00u;
  for (auto* v : {&with, &without}) {
    v->server.framebuffer_changed({0, 20, 50, 10});
    v->rects.clear();
  }
  scroll(fb, 10, 2);
  for (auto* v : {&with, &without}) {
    v->server.framebuffer_copied({0, 0, 160, 90}, 0, 10);
    v->server.framebuffer_changed({0, 90, 160, 10});
    v->client.request_update(true);
    pump(v->client, v->server, fb);
    expect_same(v->client.framebuffer(), fb, "scroll over a dirty source");
  }
  EXPECT_TRUE(has_copy_rect(with));
  EXPECT_FALSE(has_copy_rect(without));
}

TEST(ServerConnection_CopyRect, ScrollsBeforeTheViewerAsksComposeIntoOneCopy) {
  PixelBuffer fb = test_picture(160, 100, 0);
  Viewer v(fb, {Encoding::copy_rect, Encoding::tight, Encoding::desktop_size});
  for (int round = 0; round < 30; ++round) {
    v.rects.clear();
    const int scrolls = 1 + round % 4;
    for (int i = 0; i < scrolls; ++i) {
      const int lines = 3 + (round + i) % 7;
      scroll(fb, lines, static_cast<unsigned>(round * 10 + i));
      v.server.framebuffer_copied({0, 0, 160, 100 - lines}, 0, lines);
      v.server.framebuffer_changed({0, 100 - lines, 160, lines});
      if (round % 5 == 4 && i == 0) {  // and a change elsewhere, e.g. a prompt at the top
        v.server.framebuffer_changed(paint_change(fb, round));
      }
    }
    v.client.request_update(true);
    pump(v.client, v.server, fb);
    expect_same(v.client.framebuffer(), fb, "round " + std::to_string(round));
    if (HasFatalFailure()) return;
    if (round % 5 != 4) {
      EXPECT_TRUE(has_copy_rect(v)) << round;
      long long pixels = 0;
      for (const auto& [r, payload] : v.rects)
        if (payload.size() != 4) pixels += r.area();
      EXPECT_LT(pixels, 160 * 40) << "round " << round << ": only the new rows go as pixels";
    }
  }
}

// Xvnc reports one scroll of an xterm as pieces around the cursor and the scrollbar, all moved by one offset:
// viewers get those pieces as CopyRects (composed when two scrolls come before the viewer asks), not the
// region as pixels.
TEST(ServerConnection_CopyRect, AScrollInPiecesGoesAsThosePieces) {
  PixelBuffer fb = test_picture(160, 100, 0);
  Viewer v(fb, {Encoding::copy_rect, Encoding::tight, Encoding::desktop_size});
  for (int round = 0; round < 10; ++round) {
    v.rects.clear();
    for (int i = 0; i <= round % 2; ++i) {
      const int lines = 5;
      scroll(fb, lines, static_cast<unsigned>(round * 10 + i));
      const std::vector<Rect> pieces{{0, 0, 160, 40}, {0, 40, 70, 20}, {70, 40, 90, 20}, {0, 60, 160, 35}};
      v.server.framebuffer_moved(pieces, 0, -lines);
      v.server.framebuffer_changed({0, 100 - lines, 160, lines});
    }
    v.client.request_update(true);
    pump(v.client, v.server, fb);
    expect_same(v.client.framebuffer(), fb, "round " + std::to_string(round));
    if (HasFatalFailure()) return;
    long long copied = 0, pixels = 0;
    for (const auto& [r, payload] : v.rects) (payload.size() == 4 ? copied : pixels) += r.area();
    EXPECT_GE(copied, 160 * 85) << "round " << round;
    EXPECT_LE(pixels, 160 * 20) << "round " << round << ": only the new rows go as pixels";
  }
}

TEST(Rect, MinusCutsBandsExactlyAndOtherwiseKeepsTheRect) {
  const Rect a{0, 0, 100, 50};
  EXPECT_EQ(a.minus({0, 0, 100, 20}), (Rect{0, 20, 100, 30}));
  EXPECT_EQ(a.minus({-5, 30, 200, 40}), (Rect{0, 0, 100, 30}));
  EXPECT_EQ(a.minus({60, -1, 40, 60}), (Rect{0, 0, 60, 50}));
  EXPECT_EQ(a.minus({10, 10, 10, 10}), a);
  EXPECT_TRUE(a.minus({-1, -1, 200, 200}).empty());
  EXPECT_EQ(a.minus({200, 0, 5, 5}), a);
}

}  // namespace
}  // namespace vncgate::rfb
