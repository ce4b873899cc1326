// SPDX-License-Identifier: Apache-2.0
#include "rfb/decoders/tight_decoder.hpp"

#include <turbojpeg.h>

#include <algorithm>
#include <random>

#include "rfb/decoders/decoder_test_util.hpp"
#include "rfb/decoders/deflate_test_util.hpp"
#include "rfb/decoders/tight_test_util.hpp"
#include "util/error.hpp"

namespace vncgate::rfb {
namespace {

using Bytes = std::vector<std::uint8_t>;
using test::basic_rect;
using test::Deflater;
using test::put_compact;
using test::rgb;
using test::Wire;

Bytes make_jpeg(int w, int h, const std::vector<std::uint32_t>& pixels) {
  Bytes src;
  for (auto p : pixels)
    for (int shift : {16, 8, 0}) src.push_back(static_cast<std::uint8_t>(p >> shift));
  tjhandle tj = tjInitCompress();
  unsigned char* out = nullptr;
  unsigned long size = 0;
  EXPECT_EQ(tjCompress2(tj, src.data(), w, w * 3, h, TJPF_RGB, &out, &size, TJSAMP_444, 100, 0), 0);
  Bytes jpeg(out, out + size);
  tjFree(out);
  tjDestroy(tj);
  return jpeg;
}

// A JPEG rectangle: control byte, compact length, image.
Bytes jpeg_rect(unsigned control, const Bytes& jpeg) {
  Wire w;
  w.u8(control);
  put_compact(w, jpeg.size());
  return w.raw(jpeg).bytes;
}

void expect_near(Pixel actual, Pixel expected, int tolerance) {
  EXPECT_NEAR(int(framebuffer::red(actual)), int(framebuffer::red(expected)), tolerance);
  EXPECT_NEAR(int(framebuffer::green(actual)), int(framebuffer::green(expected)), tolerance);
  EXPECT_NEAR(int(framebuffer::blue(actual)), int(framebuffer::blue(expected)), tolerance);
}

TEST(TightDecoder_Decode, FillCoversRectWithRgbTpixel) {
  PixelBuffer fb(4, 3);
  PixelConverter conv;
  TightDecoder d;
  const Bytes wire = Wire{}.u8(0x80).raw(rgb({0x123456})).bytes;
  test::run_decoder(d, {1, 1, 2, 2}, conv, wire, fb);
  EXPECT_EQ(fb.at(1, 1), 0x123456u);
  EXPECT_EQ(fb.at(2, 2), 0x123456u);
  EXPECT_EQ(fb.at(0, 0), 0u);
  EXPECT_EQ(fb.at(3, 2), 0u);
  test::expect_gather_needs_all(d, {1, 1, 2, 2}, conv.format(), wire);
}

TEST(TightDecoder_Decode, FillUsesPixelWhenFormatIs16Bpp) {
  PixelConverter conv(PixelFormat::rgb565());
  PixelBuffer fb(2, 2);
  TightDecoder d;
  const Bytes wire = Wire{}.u8(0x80).u8(0x00).u8(0xf8).bytes;  // 0xf800 little endian: pure red
  test::run_decoder(d, {0, 0, 2, 2}, conv, wire, fb);
  EXPECT_EQ(fb.at(1, 1), 0xff0000u);
  test::expect_gather_needs_all(d, {0, 0, 2, 2}, conv.format(), wire);
}

TEST(TightDecoder_Decode, CopyIsUncompressedWhenUnder12Bytes) {
  PixelBuffer fb(3, 1);
  PixelConverter conv;
  TightDecoder d;
  const Bytes wire = Wire{}.u8(0x00).raw(rgb({0xff0000, 0x00ff00, 0x0000ff})).bytes;  // 9 bytes, no length
  test::run_decoder(d, {0, 0, 3, 1}, conv, wire, fb);
  EXPECT_EQ(fb.at(0, 0), 0xff0000u);
  EXPECT_EQ(fb.at(1, 0), 0x00ff00u);
  EXPECT_EQ(fb.at(2, 0), 0x0000ffu);
  test::expect_gather_needs_all(d, {0, 0, 3, 1}, conv.format(), wire);
}

TEST(TightDecoder_Decode, CopyIsCompressedWhen12BytesOrMore) {
  PixelBuffer fb(4, 2);
  PixelConverter conv;
  TightDecoder d;
  Deflater z;
  const Bytes wire = basic_rect(0x00, rgb({1, 2, 3, 4, 0x10, 0x20, 0x30, 0x40}), z);
  test::run_decoder(d, {0, 0, 4, 2}, conv, wire, fb);
  EXPECT_EQ(fb.at(0, 0), 1u);
  EXPECT_EQ(fb.at(3, 0), 4u);
  EXPECT_EQ(fb.at(0, 1), 0x10u);
  EXPECT_EQ(fb.at(3, 1), 0x40u);
  test::expect_gather_needs_all(d, {0, 0, 4, 2}, conv.format(), wire);
}

TEST(TightDecoder_Decode, CopyUsesPixelsWhenFormatIs16Bpp) {
  PixelFormat pf = PixelFormat::rgb565();
  pf.big_endian = true;
  PixelConverter conv(pf);
  PixelBuffer fb(3, 2);
  TightDecoder d;
  Deflater z;
  Wire pixels;
  pixels.u16(0xf800).u16(0x07e0).u16(0x001f).u16(0xffff).u16(0).u16(0xf800);             // 12 bytes: compressed
  test::run_decoder(d, {0, 0, 3, 2}, conv, basic_rect(0x40, pixels.bytes, z, {0}), fb);  // explicit copy filter
  EXPECT_EQ(fb.at(0, 0), 0xff0000u);
  EXPECT_EQ(fb.at(1, 0), 0x00ff00u);
  EXPECT_EQ(fb.at(2, 0), 0x0000ffu);
  EXPECT_EQ(fb.at(0, 1), 0xffffffu);
  EXPECT_EQ(fb.at(1, 1), 0u);
}

TEST(TightDecoder_Decode, CompactLengthOfThreeBytesWhenDataIsLarge) {
  const int w = 100, h = 100;
  std::mt19937 rng(7);
  Bytes pixels(static_cast<std::size_t>(w * h * 3));
  for (auto& b : pixels) b = static_cast<std::uint8_t>(rng());
  Deflater z;
  const Bytes compressed = z(pixels);
  ASSERT_GE(compressed.size(), 0x4000u);  // incompressible: needs the third length byte
  Wire wire;
  wire.u8(0x00);
  put_compact(wire, compressed.size());
  wire.raw(compressed);
  PixelBuffer fb(w, h);
  PixelConverter conv;
  TightDecoder d;
  test::run_decoder(d, {0, 0, w, h}, conv, wire.bytes, fb);
  for (int i : {0, 4321, w * h - 1})
    EXPECT_EQ(fb.pixels()[i], framebuffer::make_pixel(pixels[i * 3], pixels[i * 3 + 1], pixels[i * 3 + 2]));
}

TEST(TightDecoder_Decode, StreamsContinueAcrossRectsWhenNotReset) {
  PixelBuffer fb(4, 4);
  PixelConverter conv;
  TightDecoder d;
  Deflater z2;  // stream id 2 (control 0x20)
  for (int row = 0; row < 4; ++row) {
    const auto v = static_cast<std::uint32_t>(0x010101 * (row + 1));
    test::run_decoder(d, {0, row, 4, 1}, conv, basic_rect(0x20, rgb({v, v, v, v}), z2), fb);
  }
  EXPECT_EQ(fb.at(0, 0), 0x010101u);
  EXPECT_EQ(fb.at(3, 3), 0x040404u);
}

TEST(TightDecoder_Decode, ResetBitRestartsItsStream) {
  PixelBuffer fb(4, 1);
  PixelConverter conv;
  TightDecoder d;
  Deflater first, second;
  test::run_decoder(d, {0, 0, 4, 1}, conv, basic_rect(0x10, rgb({1, 2, 3, 4}), first), fb);  // stream 1
  // A new deflate stream starts with a zlib header; only a reset stream 1 (bit 1) can read it.
  test::run_decoder(d, {0, 0, 4, 1}, conv, basic_rect(0x10 | 0x02, rgb({5, 6, 7, 8}), second), fb);
  EXPECT_EQ(fb.at(0, 0), 5u);
  EXPECT_EQ(fb.at(3, 0), 8u);
}

TEST(TightDecoder_Decode, NewStreamIsProtocolErrorWhenResetBitMissing) {
  PixelBuffer fb(4, 1);
  PixelConverter conv;
  TightDecoder d;
  Deflater first, second;
  test::run_decoder(d, {0, 0, 4, 1}, conv, basic_rect(0x30, rgb({1, 2, 3, 4}), first), fb);
  const Bytes next = basic_rect(0x30 | 0x01 | 0x04, rgb({5, 6, 7, 8}), second);  // resets 0 and 2, not 3
  EXPECT_THROW(test::run_decoder(d, {0, 0, 4, 1}, conv, next, fb), ProtocolError);
}

TEST(TightDecoder_Decode, ResetBitsApplyWhenRectIsFill) {
  PixelBuffer fb(4, 1);
  PixelConverter conv;
  TightDecoder d;
  Deflater first, second;
  test::run_decoder(d, {0, 0, 4, 1}, conv, basic_rect(0x00, rgb({1, 2, 3, 4}), first), fb);
  test::run_decoder(d, {0, 0, 4, 1}, conv, Wire{}.u8(0x81).raw(rgb({9})).bytes, fb);  // fill, resets stream 0
  test::run_decoder(d, {0, 0, 4, 1}, conv, basic_rect(0x00, rgb({5, 6, 7, 8}), second), fb);
  EXPECT_EQ(fb.at(3, 0), 8u);
}

TEST(TightDecoder_Reset, EachStreamRestartsOnItsResetBit) {
  PixelBuffer fb(4, 1);
  PixelConverter conv;
  TightDecoder d;
  for (unsigned stream = 0; stream < 4; ++stream) {
    Deflater z;
    test::run_decoder(d, {0, 0, 4, 1}, conv, basic_rect(stream << 4, rgb({1, 2, 3, 4}), z), fb);
  }
  for (unsigned stream = 0; stream < 4; ++stream) {
    Deflater z;  // a fresh stream: decodes only because the control byte resets the decoder's stream too
    test::run_decoder(d, {0, 0, 4, 1}, conv, basic_rect((stream << 4) | (1u << stream), rgb({5, 6, 7, stream}), z), fb);
    EXPECT_EQ(fb.at(3, 0), stream);
  }
}

TEST(TightDecoder_Decode, TwoColourPaletteIsBitPackedWhenWidthNotMultipleOf8) {
  const int w = 10, h = 2;
  PixelBuffer fb(w, h);
  PixelConverter conv;
  TightDecoder d;
  // Row 0: 1011001110 (padded to 10110011 10000000); row 1: 0000000001.
  Wire wire;
  wire.u8(0x40).u8(1).u8(1).raw(rgb({0x0000ff, 0xffff00})).u8(0xb3).u8(0x80).u8(0x00).u8(0x40);
  test::run_decoder(d, {0, 0, w, h}, conv, wire.bytes, fb);
  const char* rows[] = {"1011001110", "0000000001"};
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) EXPECT_EQ(fb.at(x, y), rows[y][x] == '1' ? 0xffff00u : 0x0000ffu) << x << "," << y;
  test::expect_gather_needs_all(d, {0, 0, w, h}, conv.format(), wire.bytes);
}

TEST(TightDecoder_Decode, TwoColourPaletteIsCompressedWhenRowsReach12Bytes) {
  const int w = 9, h = 6;  // 2 bytes per row, 12 bytes
  PixelBuffer fb(w, h);
  PixelConverter conv;
  TightDecoder d;
  Deflater z;
  Bytes bits;
  for (int y = 0; y < h; ++y) {
    bits.push_back(y % 2 ? 0xff : 0x00);
    bits.push_back(0x80);
  }
  Wire wire;
  wire.u8(0x40 | 0x10).u8(1).u8(1).raw(rgb({0x111111, 0x222222}));  // stream 1
  put_data(wire, bits, z);
  test::run_decoder(d, {0, 0, w, h}, conv, wire.bytes, fb);
  EXPECT_EQ(fb.at(0, 0), 0x111111u);
  EXPECT_EQ(fb.at(8, 0), 0x222222u);
  EXPECT_EQ(fb.at(7, 1), 0x222222u);
  EXPECT_EQ(fb.at(8, 1), 0x222222u);
  EXPECT_EQ(fb.at(3, 4), 0x111111u);
  test::expect_gather_needs_all(d, {0, 0, w, h}, conv.format(), wire.bytes);
}

TEST(TightDecoder_Decode, ManyColourPaletteUsesOneBytePerPixel) {
  const int w = 4, h = 4;
  PixelBuffer fb(w, h);
  PixelConverter conv;
  TightDecoder d;
  Deflater z;
  Bytes indices;
  for (int i = 0; i < w * h; ++i) indices.push_back(static_cast<std::uint8_t>(i % 5));
  Wire wire;
  wire.u8(0x40).u8(1).u8(4).raw(rgb({0x000001, 0x000002, 0x000003, 0x000004, 0x000005}));
  put_data(wire, indices, z);
  test::run_decoder(d, {0, 0, w, h}, conv, wire.bytes, fb);
  for (int i = 0; i < w * h; ++i) EXPECT_EQ(fb.pixels()[i], static_cast<Pixel>(i % 5 + 1));
  test::expect_gather_needs_all(d, {0, 0, w, h}, conv.format(), wire.bytes);
}

TEST(TightDecoder_Decode, PaletteOf256ColoursWithPixelTpixelsWhen16Bpp) {
  PixelConverter conv(PixelFormat::rgb565());
  PixelBuffer fb(16, 16);
  TightDecoder d;
  Deflater z;
  Wire wire;
  wire.u8(0x40).u8(1).u8(255);
  for (unsigned i = 0; i < 256; ++i) wire.u8(i).u8(0);  // values 0..255: blue 0..31 and green bits
  Bytes indices(256);
  for (unsigned i = 0; i < 256; ++i) indices[i] = static_cast<std::uint8_t>(255 - i);
  put_data(wire, indices, z);
  test::run_decoder(d, {0, 0, 16, 16}, conv, wire.bytes, fb);
  for (unsigned i = 0; i < 256; ++i) {
    const std::uint8_t le[2] = {static_cast<std::uint8_t>(255 - i), 0};
    EXPECT_EQ(fb.pixels()[i], conv.pixel(le));
  }
}

// Test-side encoder of the gradient filter (rfbproto "Tight"): per component, the value minus
// clamp(left + above - upper_left, 0, max), modulo max + 1, neighbours outside the rect counting as 0.
std::vector<std::array<int, 3>> gradient_diffs(const std::vector<std::array<int, 3>>& image, int w, int h,
                                               const std::array<int, 3>& max) {
  std::vector<std::array<int, 3>> out(image.size());
  auto at = [&](int x, int y, int c) { return x < 0 || y < 0 ? 0 : image[static_cast<std::size_t>(y * w + x)][c]; };
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) {
        const int predicted = std::clamp(at(x - 1, y, c) + at(x, y - 1, c) - at(x - 1, y - 1, c), 0, max[c]);
        out[static_cast<std::size_t>(y * w + x)][c] = (at(x, y, c) - predicted) & max[c];
      }
  return out;
}

TEST(TightDecoder_Decode, GradientMatchesHandComputedDiffs) {
  // Image (10,20,30) (40,50,60) / (70,80,90) (200,10,255): the last pixel predicts (100,110,120).
  PixelBuffer fb(2, 2);
  PixelConverter conv;
  TightDecoder d;
  Deflater z;
  const Bytes wire = basic_rect(0x40, {10, 20, 30, 30, 30, 30, 60, 60, 60, 100, 156, 135}, z, {2});
  test::run_decoder(d, {0, 0, 2, 2}, conv, wire, fb);
  EXPECT_EQ(fb.at(0, 0), framebuffer::make_pixel(10, 20, 30));
  EXPECT_EQ(fb.at(1, 0), framebuffer::make_pixel(40, 50, 60));
  EXPECT_EQ(fb.at(0, 1), framebuffer::make_pixel(70, 80, 90));
  EXPECT_EQ(fb.at(1, 1), framebuffer::make_pixel(200, 10, 255));
  test::expect_gather_needs_all(d, {0, 0, 2, 2}, conv.format(), wire);
}

TEST(TightDecoder_Decode, GradientRoundTripsWhenPredictionsClamp) {
  const int w = 7, h = 5;
  std::mt19937 rng(42);
  std::vector<std::array<int, 3>> image(w * h);
  for (auto& p : image)
    for (auto& c : p) c = (rng() % 2) ? 255 - static_cast<int>(rng() % 8) : static_cast<int>(rng() % 8);
  const auto diffs = gradient_diffs(image, w, h, {255, 255, 255});
  Bytes data;
  for (auto& p : diffs)
    for (int c : p) data.push_back(static_cast<std::uint8_t>(c));
  PixelBuffer fb(w + 2, h + 2);
  PixelConverter conv;
  TightDecoder d;
  Deflater z;
  test::run_decoder(d, {1, 2, w, h}, conv, basic_rect(0x40 | 0x30, data, z, {2}), fb);  // stream 3
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const auto& p = image[static_cast<std::size_t>(y * w + x)];
      EXPECT_EQ(fb.at(x + 1, y + 2), framebuffer::make_pixel(p[0], p[1], p[2])) << x << "," << y;
    }
  EXPECT_EQ(fb.at(0, 2), 0u);
}

TEST(TightDecoder_Decode, GradientUsesComponentMaxesWhenFormatIs16Bpp) {
  const int w = 5, h = 3;
  const PixelFormat pf = PixelFormat::rgb565();
  std::mt19937 rng(3);
  std::vector<std::array<int, 3>> image(w * h);
  for (auto& p : image) p = {int(rng() % 32), int(rng() % 64), int(rng() % 32)};
  const auto diffs = gradient_diffs(image, w, h, {31, 63, 31});
  Bytes data;
  for (auto& p : diffs) {
    const unsigned v = (unsigned(p[0]) << 11) | (unsigned(p[1]) << 5) | unsigned(p[2]);
    data.push_back(static_cast<std::uint8_t>(v));
    data.push_back(static_cast<std::uint8_t>(v >> 8));
  }
  PixelConverter conv(pf);
  PixelBuffer fb(w, h);
  TightDecoder d;
  Deflater z;
  test::run_decoder(d, {0, 0, w, h}, conv, basic_rect(0x40, data, z, {2}), fb);
  for (int i = 0; i < w * h; ++i) {
    const auto& p = image[static_cast<std::size_t>(i)];
    EXPECT_EQ(fb.pixels()[i], conv.from_value((unsigned(p[0]) << 11) | (unsigned(p[1]) << 5) | unsigned(p[2])));
  }
}

TEST(TightDecoder_Decode, JpegFlatColourWithinTolerance) {
  const int w = 16, h = 8;
  const Bytes jpeg = make_jpeg(w, h, std::vector<std::uint32_t>(w * h, 0xc86432));
  ASSERT_GE(jpeg.size(), 0x80u);  // two-byte compact length
  const Bytes wire = jpeg_rect(0x90, jpeg);
  PixelBuffer fb(w + 1, h + 1);
  PixelConverter conv;
  TightDecoder d;
  test::run_decoder(d, {1, 1, w, h}, conv, wire, fb);
  for (int y = 1; y <= h; ++y)
    for (int x = 1; x <= w; ++x) expect_near(fb.at(x, y), 0xc86432u, 2);
  EXPECT_EQ(fb.at(0, 0), 0u);
  EXPECT_EQ(fb.at(0, h), 0u);
  test::expect_gather_needs_all(d, {1, 1, w, h}, conv.format(), wire);
}

TEST(TightDecoder_Decode, JpegKeepsChannelOrderAndPlacement) {
  const int w = 16, h = 8;
  std::vector<std::uint32_t> pixels(w * h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) pixels[static_cast<std::size_t>(y * w + x)] = x < 8 ? 0xff0000 : 0x0000ff;
  const Bytes jpeg = make_jpeg(w, h, pixels);
  PixelBuffer fb(w, h);
  PixelConverter conv(PixelFormat::rgb565());  // JPEG output does not depend on the pixel format
  TightDecoder d;
  test::run_decoder(d, {0, 0, w, h}, conv, jpeg_rect(0x9f, jpeg), fb);  // 0x9f: JPEG, resetting all streams
  expect_near(fb.at(0, 0), 0xff0000u, 4);
  expect_near(fb.at(7, 7), 0xff0000u, 4);
  expect_near(fb.at(8, 0), 0x0000ffu, 4);
  expect_near(fb.at(15, 7), 0x0000ffu, 4);
}

TEST(TightDecoder_Gather, ImpossibleStructureIsProtocolError) {
  struct Case {
    const char* what;
    Rect r;
    PixelFormat pf;
    Bytes wire;
  };
  const PixelFormat rgb = PixelFormat::canonical();
  std::vector<Case> cases = {
      {"filter id 3", {0, 0, 4, 4}, rgb, {0x40, 3}},
      {"palette of one colour", {0, 0, 4, 1}, rgb, {0x40, 1, 0}},
      {"gradient with a colour map", {0, 0, 4, 1}, PixelFormat::colour_map8(), {0x40, 2}},
      {"empty JPEG", {0, 0, 8, 8}, rgb, {0x90, 0}},
      // 4x1 RGB is 12 bytes of pixels, announced as 4 MiB - 1 of zlib data.
      {"oversized compact length", {0, 0, 4, 1}, rgb, {0x00, 0xff, 0xff, 0xff}},
      {"rect beyond kMaxPayload", {0, 0, 65535, 65535}, rgb, {0x00}},
  };
  for (unsigned type = 0xa; type <= 0xf; ++type)
    cases.push_back({"compression type above JPEG", {0, 0, 4, 4}, rgb, {static_cast<std::uint8_t>(type << 4)}});
  for (const auto& c : cases) {
    TightDecoder d;
    InBuffer in;
    in.append(c.wire);
    Bytes payload;
    EXPECT_THROW(d.gather(in, c.r, c.pf, payload), ProtocolError) << c.what;
  }
}

TEST(TightDecoder_Gather, TakesExactlyTheRectsBytesAndAppends) {
  TightDecoder d;
  InBuffer in;
  in.append(Wire{}.u8(0x80).raw(rgb({0x010203})).u8(0xee).u8(0xdd).bytes);
  Bytes payload{0x42};
  ASSERT_TRUE(d.gather(in, {0, 0, 1, 1}, PixelFormat::canonical(), payload));
  EXPECT_EQ(payload, (Bytes{0x42, 0x80, 1, 2, 3}));
  EXPECT_EQ(in.available(), 2u);
}

TEST(TightDecoder_Decode, MalformedDataIsProtocolError) {
  struct Case {
    const char* what;
    Rect r;
    Bytes wire;
  };
  Deflater z;
  Wire truncated;  // 4 pixels of zlib data for an 8-pixel rect
  put_data(truncated.u8(0x00), rgb({1, 2, 3, 4}), z);
  const Bytes garbage(16, 0xa5);
  const Case cases[] = {
      {"truncated zlib", {0, 0, 4, 2}, truncated.bytes},
      {"corrupt zlib", {0, 0, 4, 1}, Wire{}.u8(0x00).u8(16).raw(garbage).bytes},
      {"palette index 3 of 3", {0, 0, 4, 1}, Wire{}.u8(0x40).u8(1).u8(2).raw(rgb({1, 2, 3})).u32(0x00010203).bytes},
      {"corrupt JPEG", {0, 0, 8, 8}, jpeg_rect(0x90, garbage)},
      {"JPEG 8x8 in an 8x9 rect", {0, 0, 8, 9}, jpeg_rect(0x90, make_jpeg(8, 8, std::vector<std::uint32_t>(64, 0)))},
  };
  for (const auto& c : cases) {
    PixelBuffer fb(16, 16);
    PixelConverter conv;
    TightDecoder d;
    EXPECT_THROW(test::run_decoder(d, c.r, conv, c.wire, fb), ProtocolError) << c.what;
  }
}

TEST(TightDecoder_Decode, PayloadShorterThanStructureIsProtocolError) {
  PixelBuffer fb(4, 1);
  PixelConverter conv;
  TightDecoder d;
  const Bytes payload = Wire{}.u8(0x00).u8(1).u8(2).bytes;  // 9 bytes of uncompressed pixels cut short
  EXPECT_THROW(d.decode(payload, {0, 0, 3, 1}, conv, fb), ProtocolError);
  EXPECT_THROW(d.decode({}, {0, 0, 3, 1}, conv, fb), ProtocolError);
}

TEST(TightDecoder_Factory, MakeDecoderCreatesTight) {
  EXPECT_NE(dynamic_cast<TightDecoder*>(make_decoder(Encoding::tight).get()), nullptr);
}

}  // namespace
}  // namespace vncgate::rfb
