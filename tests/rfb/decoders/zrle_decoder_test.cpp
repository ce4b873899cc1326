// SPDX-License-Identifier: Apache-2.0
#include "rfb/decoders/zrle_decoder.hpp"

#include "rfb/decoders/decoder_test_util.hpp"
#include "rfb/decoders/deflate_test_util.hpp"
#include "rfb/decoders/zrle_test_util.hpp"
#include "util/error.hpp"

namespace vncgate::rfb {
namespace {

using Bytes = std::vector<std::uint8_t>;
using test::Deflater;
using test::Tiles;
using test::Wire;
using test::zrle_rect;

void decode_tiles(ZrleDecoder& d, const Rect& r, const PixelConverter& conv, const Bytes& tiles, PixelBuffer& fb) {
  Deflater z;
  test::run_decoder(d, r, conv, zrle_rect(z, tiles), fb);
}

void expect_rect(const PixelBuffer& fb, const Rect& r, Pixel colour) {
  for (int y = r.y; y < r.bottom(); ++y)
    for (int x = r.x; x < r.right(); ++x) ASSERT_EQ(fb.at(x, y), colour) << x << "," << y;
}

constexpr Pixel kSentinel = 0x5a5a5a;

TEST(ZrleDecoder_Decode, RawTileOfCpixels) {
  PixelBuffer fb(3, 2);
  PixelConverter conv;
  ZrleDecoder d;
  Tiles t;
  t.sub(0).cpx(0x010203).cpx(0x040506).cpx(0x070809).cpx(0xff0000).cpx(0x00ff00).cpx(0x0000ff);
  decode_tiles(d, {0, 0, 3, 2}, conv, t.bytes, fb);
  EXPECT_EQ(fb.at(0, 0), 0x010203u);
  EXPECT_EQ(fb.at(2, 0), 0x070809u);
  EXPECT_EQ(fb.at(0, 1), 0xff0000u);
  EXPECT_EQ(fb.at(2, 1), 0x0000ffu);
}

TEST(ZrleDecoder_Decode, SolidTileStaysInsideRect) {
  PixelBuffer fb(6, 6);
  fb.fill(fb.bounds(), kSentinel);
  PixelConverter conv;
  ZrleDecoder d;
  decode_tiles(d, {1, 1, 4, 4}, conv, Tiles{}.sub(1).cpx(0xabcdef).bytes, fb);
  expect_rect(fb, {1, 1, 4, 4}, 0xabcdef);
  EXPECT_EQ(fb.at(0, 0), kSentinel);
  EXPECT_EQ(fb.at(5, 5), kSentinel);
  EXPECT_EQ(fb.at(5, 1), kSentinel);
  EXPECT_EQ(fb.at(1, 5), kSentinel);
}

TEST(ZrleDecoder_Decode, PackedPaletteOf2ColoursWhenWidthNotMultipleOf8) {
  PixelBuffer fb(10, 2);
  PixelConverter conv;
  ZrleDecoder d;
  Tiles t;
  // Row 0: 1011001110; row 1: 0000000001 (1 bit each, rows padded to bytes).
  t.sub(2).cpx(0x0000ff).cpx(0xffff00).u8(0xb3).u8(0x80).u8(0x00).u8(0x40);
  decode_tiles(d, {0, 0, 10, 2}, conv, t.bytes, fb);
  const char* rows[] = {"1011001110", "0000000001"};
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 10; ++x) EXPECT_EQ(fb.at(x, y), rows[y][x] == '1' ? 0xffff00u : 0x0000ffu) << x << "," << y;
}

TEST(ZrleDecoder_Decode, PackedPaletteOf3ColoursUses2Bits) {
  PixelBuffer fb(5, 2);
  PixelConverter conv;
  ZrleDecoder d;
  Tiles t;
  // Row 0: 0 1 2 0 1 -> 00 01 10 00 | 01 (pad); row 1: 2 2 2 2 2 -> 10 10 10 10 | 10 (pad).
  t.sub(3).cpx(0x111111).cpx(0x222222).cpx(0x333333).u8(0x18).u8(0x40).u8(0xaa).u8(0x80);
  decode_tiles(d, {0, 0, 5, 2}, conv, t.bytes, fb);
  const Pixel palette[] = {0x111111, 0x222222, 0x333333};
  const int indices[2][5] = {{0, 1, 2, 0, 1}, {2, 2, 2, 2, 2}};
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 5; ++x) EXPECT_EQ(fb.at(x, y), palette[indices[y][x]]) << x << "," << y;
}

TEST(ZrleDecoder_Decode, PackedPaletteOf5ColoursUses4Bits) {
  PixelBuffer fb(3, 2);
  PixelConverter conv;
  ZrleDecoder d;
  Tiles t;
  t.sub(5);
  for (std::uint32_t i = 1; i <= 5; ++i) t.cpx(i);
  t.u8(0x43).u8(0x20).u8(0x01).u8(0x40);  // rows 4 3 2 | 0 1 4
  decode_tiles(d, {0, 0, 3, 2}, conv, t.bytes, fb);
  const int indices[2][3] = {{4, 3, 2}, {0, 1, 4}};
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 3; ++x) EXPECT_EQ(fb.at(x, y), static_cast<Pixel>(indices[y][x] + 1)) << x << "," << y;
}

TEST(ZrleDecoder_Decode, PackedPaletteOf16ColoursCoversEveryIndex) {
  PixelBuffer fb(16, 1);
  PixelConverter conv;
  ZrleDecoder d;
  Tiles t;
  t.sub(16);
  for (std::uint32_t i = 0; i < 16; ++i) t.cpx(0x100000 * i);
  for (unsigned i = 0; i < 16; i += 2) t.u8((i << 4) | (i + 1));
  decode_tiles(d, {0, 0, 16, 1}, conv, t.bytes, fb);
  for (int x = 0; x < 16; ++x) EXPECT_EQ(fb.at(x, 0), 0x100000u * static_cast<unsigned>(x));
}

TEST(ZrleDecoder_Decode, PackedPaletteIndexOutOfRangeIsProtocolError) {
  PixelConverter conv;
  PixelBuffer fb(2, 1);
  {
    ZrleDecoder d;  // 3 colours, 2-bit index 3
    EXPECT_THROW(decode_tiles(d, {0, 0, 2, 1}, conv, Tiles{}.sub(3).cpx(1).cpx(2).cpx(3).u8(0x30).bytes, fb),
                 ProtocolError);
  }
  {
    ZrleDecoder d;  // 5 colours, 4-bit index 5
    Tiles t;
    t.sub(5).cpx(1).cpx(2).cpx(3).cpx(4).cpx(5).u8(0x05);
    EXPECT_THROW(decode_tiles(d, {0, 0, 2, 1}, conv, t.bytes, fb), ProtocolError);
  }
}

TEST(ZrleDecoder_Decode, UnusedSubencodingIsProtocolError) {
  PixelConverter conv;
  PixelBuffer fb(2, 2);
  for (unsigned sub : {17u, 64u, 127u, 129u}) {
    ZrleDecoder d;
    Tiles t;
    t.sub(sub).cpx(1).cpx(2).u8(0).u8(0).u8(0).u8(0);
    EXPECT_THROW(decode_tiles(d, {0, 0, 2, 2}, conv, t.bytes, fb), ProtocolError) << sub;
  }
}

TEST(ZrleDecoder_Decode, PlainRleWithRunsLongerThan255) {
  PixelBuffer fb(64, 64);
  PixelConverter conv;
  ZrleDecoder d;
  Tiles t;
  t.sub(128).cpx(0xff0000).run(300).cpx(0x00ff00).run(255).cpx(0x0000ff).run(4096 - 300 - 255);
  decode_tiles(d, {0, 0, 64, 64}, conv, t.bytes, fb);
  const auto& px = fb.pixels();
  EXPECT_EQ(px[0], 0xff0000u);
  EXPECT_EQ(px[299], 0xff0000u);
  EXPECT_EQ(px[300], 0x00ff00u);
  EXPECT_EQ(px[554], 0x00ff00u);
  EXPECT_EQ(px[555], 0x0000ffu);
  EXPECT_EQ(px[4095], 0x0000ffu);
}

TEST(ZrleDecoder_Decode, PaletteRleMixesSinglePixelsAndRunsAcrossRows) {
  PixelBuffer fb(4, 2);
  PixelConverter conv;
  ZrleDecoder d;
  Tiles t;
  // c0, then c1 x4 (wraps to row 1), then c2 x3.
  t.sub(128 + 3).cpx(0xaa0000).cpx(0x00bb00).cpx(0x0000cc).u8(0x00).u8(0x81).run(4).u8(0x82).run(3);
  decode_tiles(d, {0, 0, 4, 2}, conv, t.bytes, fb);
  EXPECT_EQ(fb.at(0, 0), 0xaa0000u);
  EXPECT_EQ(fb.at(1, 0), 0x00bb00u);
  EXPECT_EQ(fb.at(3, 0), 0x00bb00u);
  EXPECT_EQ(fb.at(0, 1), 0x00bb00u);
  EXPECT_EQ(fb.at(1, 1), 0x0000ccu);
  EXPECT_EQ(fb.at(3, 1), 0x0000ccu);
}

TEST(ZrleDecoder_Decode, RunsWrapToNextRowWithoutSpillingWhenFramebufferIsWider) {
  PixelBuffer fb(8, 4);
  fb.fill(fb.bounds(), kSentinel);
  PixelConverter conv;
  ZrleDecoder d;
  Tiles t;
  t.sub(128).cpx(0x000001).run(5).cpx(0x000002).run(3);
  decode_tiles(d, {2, 1, 4, 2}, conv, t.bytes, fb);
  expect_rect(fb, {2, 1, 4, 1}, 1);
  EXPECT_EQ(fb.at(2, 2), 1u);
  expect_rect(fb, {3, 2, 3, 1}, 2);
  expect_rect(fb, {6, 1, 2, 2}, kSentinel);
  expect_rect(fb, {0, 1, 2, 2}, kSentinel);
  expect_rect(fb, {0, 0, 8, 1}, kSentinel);
  expect_rect(fb, {0, 3, 8, 1}, kSentinel);
}

TEST(ZrleDecoder_Decode, PaletteRleOf127ColoursAcceptsTopIndex) {
  PixelBuffer fb(2, 1);
  PixelConverter conv;
  ZrleDecoder d;
  Tiles t;
  t.sub(255);
  for (std::uint32_t i = 0; i < 127; ++i) t.cpx(i);
  t.u8(126).u8(0x80 | 125).run(1);
  decode_tiles(d, {0, 0, 2, 1}, conv, t.bytes, fb);
  EXPECT_EQ(fb.at(0, 0), 126u);
  EXPECT_EQ(fb.at(1, 0), 125u);
}

TEST(ZrleDecoder_Decode, PaletteRleIndexOutOfRangeIsProtocolError) {
  PixelBuffer fb(2, 1);
  PixelConverter conv;
  ZrleDecoder d;
  EXPECT_THROW(decode_tiles(d, {0, 0, 2, 1}, conv, Tiles{}.sub(130).cpx(1).cpx(2).u8(0).u8(2).bytes, fb),
               ProtocolError);
}

TEST(ZrleDecoder_Decode, RunBeyondTileIsProtocolErrorAndWritesNothingOutside) {
  PixelConverter conv;
  PixelBuffer fb(80, 80);
  fb.fill(fb.bounds(), kSentinel);
  {
    ZrleDecoder d;  // plain RLE: 4097 pixels in a 64x64 tile
    Tiles t;
    t.sub(128).cpx(1).run(4097);
    for (int i = 0; i < 100; ++i) t.cpx(2).run(1);
    EXPECT_THROW(decode_tiles(d, {8, 8, 64, 64}, conv, t.bytes, fb), ProtocolError);
  }
  {
    ZrleDecoder d;  // palette RLE: 3 + 2 pixels in a 2x2 tile
    Tiles t;
    t.sub(130).cpx(1).cpx(2).u8(0x80).run(3).u8(0x81).run(2);
    EXPECT_THROW(decode_tiles(d, {8, 8, 2, 2}, conv, t.bytes, fb), ProtocolError);
  }
  {
    ZrleDecoder d;  // endless 255 bytes stop at the tile size, not at the end of the data
    Tiles t;
    t.sub(128).cpx(1);
    for (int i = 0; i < 1000; ++i) t.u8(255);
    EXPECT_THROW(decode_tiles(d, {8, 8, 4, 4}, conv, t.bytes, fb), ProtocolError);
  }
  expect_rect(fb, {0, 0, 80, 8}, kSentinel);
  expect_rect(fb, {0, 72, 80, 8}, kSentinel);
  expect_rect(fb, {0, 8, 8, 64}, kSentinel);
  expect_rect(fb, {72, 8, 8, 64}, kSentinel);
}

TEST(ZrleDecoder_Decode, PartialTilesAtRightAndBottomEdges) {
  PixelBuffer fb(80, 80);
  fb.fill(fb.bounds(), kSentinel);
  PixelConverter conv;
  ZrleDecoder d;
  const Rect r{3, 5, 70, 66};  // tiles 64x64, 6x64, 64x2, 6x2
  Tiles t;
  t.sub(1).cpx(0x110000).sub(1).cpx(0x220000).sub(1).cpx(0x330000).sub(1).cpx(0x440000);
  decode_tiles(d, r, conv, t.bytes, fb);
  expect_rect(fb, {3, 5, 64, 64}, 0x110000);
  expect_rect(fb, {67, 5, 6, 64}, 0x220000);
  expect_rect(fb, {3, 69, 64, 2}, 0x330000);
  expect_rect(fb, {67, 69, 6, 2}, 0x440000);
  expect_rect(fb, {2, 5, 1, 66}, kSentinel);
  expect_rect(fb, {73, 5, 1, 66}, kSentinel);
  expect_rect(fb, {3, 4, 70, 1}, kSentinel);
  expect_rect(fb, {3, 71, 70, 1}, kSentinel);
}

TEST(ZrleDecoder_Decode, RectSpanningTilesMixesSubencodings) {
  PixelBuffer fb(130, 70);
  PixelConverter conv;
  ZrleDecoder d;
  // Tiles in order: (0,0) 64x64, (64,0) 64x64, (128,0) 2x64, (0,64) 64x6, (64,64) 64x6, (128,64) 2x6.
  Tiles t;
  t.sub(1).cpx(0x000001);
  t.sub(128).cpx(0x000002).run(64 * 32).cpx(0x000003).run(64 * 32);
  t.sub(0);
  for (std::uint32_t i = 0; i < 128; ++i) t.cpx(0x010000 + i);
  t.sub(2).cpx(0x000004).cpx(0x000005);
  for (int y = 0; y < 6; ++y)
    for (int b = 0; b < 8; ++b) t.u8(y % 2 ? 0xff : 0x00);
  t.sub(130).cpx(0x000006).cpx(0x000007).u8(0x81).run(64 * 6 - 1).u8(0x00);
  t.sub(1).cpx(0x000008);
  decode_tiles(d, {0, 0, 130, 70}, conv, t.bytes, fb);
  expect_rect(fb, {0, 0, 64, 64}, 1);
  expect_rect(fb, {64, 0, 64, 32}, 2);
  expect_rect(fb, {64, 32, 64, 32}, 3);
  EXPECT_EQ(fb.at(128, 0), 0x010000u);
  EXPECT_EQ(fb.at(129, 0), 0x010001u);
  EXPECT_EQ(fb.at(129, 63), 0x010000u + 127);
  expect_rect(fb, {0, 64, 64, 1}, 4);
  expect_rect(fb, {0, 65, 64, 1}, 5);
  expect_rect(fb, {0, 69, 64, 1}, 5);
  EXPECT_EQ(fb.at(64, 64), 7u);
  EXPECT_EQ(fb.at(126, 69), 7u);
  EXPECT_EQ(fb.at(127, 69), 6u);
  expect_rect(fb, {128, 64, 2, 6}, 8);
}

TEST(ZrleDecoder_Decode, FourByteCpixelWhenDepthIs32) {
  const PixelFormat pf{32, 32, false, true, 255, 255, 255, 16, 8, 0};
  ASSERT_EQ(pf.cpixel_bytes(), 4);
  PixelConverter conv(pf);
  PixelBuffer fb(2, 1);
  ZrleDecoder d;
  Wire t;
  t.u8(0).px(0x123456).px(0x654321);
  decode_tiles(d, {0, 0, 2, 1}, conv, t.bytes, fb);
  EXPECT_EQ(fb.at(0, 0), 0x123456u);
  EXPECT_EQ(fb.at(1, 0), 0x654321u);
}

TEST(ZrleDecoder_Decode, ThreeByteCpixelCarriesHighBytesWhenColoursAreOnTop) {
  const PixelFormat pf{32, 24, false, true, 255, 255, 255, 24, 16, 8};
  ASSERT_EQ(pf.cpixel_bytes(), 3);
  PixelConverter conv(pf);
  PixelBuffer fb(2, 1);
  ZrleDecoder d;
  Wire t;
  t.u8(128).u8(0x33).u8(0x22).u8(0x11).u8(1);  // B, G, R of value 0x11223300; run of 2
  decode_tiles(d, {0, 0, 2, 1}, conv, t.bytes, fb);
  EXPECT_EQ(fb.at(0, 0), 0x112233u);
  EXPECT_EQ(fb.at(1, 0), 0x112233u);
}

TEST(ZrleDecoder_Decode, ThreeByteCpixelIsBigEndianWhenFormatIs) {
  PixelFormat pf = PixelFormat::canonical();
  pf.big_endian = true;
  PixelConverter conv(pf);
  PixelBuffer fb(1, 1);
  ZrleDecoder d;
  decode_tiles(d, {0, 0, 1, 1}, conv, Wire{}.u8(1).u8(0x11).u8(0x22).u8(0x33).bytes, fb);
  EXPECT_EQ(fb.at(0, 0), 0x112233u);
}

TEST(ZrleDecoder_Decode, TwoByteCpixelWhenFormatIs16Bpp) {
  PixelConverter conv(PixelFormat::rgb565());
  PixelBuffer fb(4, 2);
  ZrleDecoder d;
  Wire t;
  // Plain RLE: red x3, green x5 (little-endian 565 CPIXELs).
  t.u8(128).u8(0x00).u8(0xf8).u8(2).u8(0xe0).u8(0x07).u8(4);
  decode_tiles(d, {0, 0, 4, 2}, conv, t.bytes, fb);
  EXPECT_EQ(fb.at(2, 0), 0xff0000u);
  EXPECT_EQ(fb.at(3, 0), 0x00ff00u);
  EXPECT_EQ(fb.at(3, 1), 0x00ff00u);
}

TEST(ZrleDecoder_Decode, StreamContinuesAcrossRects) {
  PixelBuffer fb(2, 2);
  PixelConverter conv;
  ZrleDecoder d;
  Deflater z;
  test::run_decoder(d, {0, 0, 2, 1}, conv, zrle_rect(z, Tiles{}.sub(1).cpx(0x0a0b0c).bytes), fb);
  test::run_decoder(d, {0, 1, 2, 1}, conv, zrle_rect(z, Tiles{}.sub(1).cpx(0x0a0b0c).bytes), fb);
  expect_rect(fb, {0, 0, 2, 2}, 0x0a0b0c);
}

TEST(ZrleDecoder_Gather, NeedsEveryByteAndTakesExactlyThem) {
  ZrleDecoder d;
  Deflater z;
  const Bytes wire = zrle_rect(z, Tiles{}.sub(1).cpx(1).bytes);
  test::expect_gather_needs_all(d, {0, 0, 4, 4}, PixelFormat::canonical(), wire);
  InBuffer in;
  in.append(wire);
  in.append(Bytes{0x99});
  Bytes payload;
  ASSERT_TRUE(d.gather(in, {0, 0, 4, 4}, PixelFormat::canonical(), payload));
  EXPECT_EQ(payload.size(), wire.size() - 4);
  EXPECT_EQ(in.available(), 1u);
}

TEST(ZrleDecoder_Gather, OversizedLengthIsProtocolError) {
  ZrleDecoder d;
  InBuffer in;
  in.append(Wire{}.u32(0xfffffff0).bytes);
  Bytes payload;
  EXPECT_THROW(d.gather(in, {0, 0, 1, 1}, PixelFormat::canonical(), payload), ProtocolError);
}

TEST(ZrleDecoder_Decode, TruncatedTileDataIsProtocolError) {
  PixelConverter conv;
  PixelBuffer fb(2, 2);
  const Bytes cases[] = {
      Tiles{}.sub(0).cpx(1).cpx(2).cpx(3).bytes,      // raw: 3 of 4 pixels
      Tiles{}.sub(1).u8(1).bytes,                     // solid: partial CPIXEL
      Tiles{}.sub(2).cpx(1).cpx(2).u8(0).bytes,       // packed: 1 of 2 rows
      Tiles{}.sub(128).cpx(1).run(2).cpx(2).bytes,    // plain RLE: run length missing
      Tiles{}.sub(130).cpx(1).cpx(2).u8(0x80).bytes,  // palette RLE: run length missing
      Tiles{}.sub(131).cpx(1).cpx(2).bytes,           // palette RLE: palette cut short
      Bytes{},                                        // no tile at all
  };
  for (const auto& tiles : cases) {
    ZrleDecoder d;
    EXPECT_THROW(decode_tiles(d, {0, 0, 2, 2}, conv, tiles, fb), ProtocolError) << tiles.size();
  }
}

TEST(ZrleDecoder_Decode, TrailingBytesAfterLastTileIsProtocolError) {
  PixelBuffer fb(2, 2);
  PixelConverter conv;
  ZrleDecoder d;
  EXPECT_THROW(decode_tiles(d, {0, 0, 2, 2}, conv, Tiles{}.sub(1).cpx(1).u8(0).bytes, fb), ProtocolError);
}

TEST(ZrleDecoder_Decode, TruncatedZlibIsProtocolError) {
  Deflater z;
  Bytes tiles = Tiles{}.sub(0).bytes;  // a raw 64x64 tile of poorly compressible pixels
  for (int i = 0; i < 64 * 64; ++i) {
    const auto v = static_cast<std::uint32_t>(i) * 2654435761u;
    for (int shift : {0, 8, 16}) tiles.push_back(static_cast<std::uint8_t>(v >> shift));
  }
  Bytes compressed = z(tiles);
  compressed.resize(compressed.size() / 2);
  PixelBuffer fb(64, 64);
  PixelConverter conv;
  ZrleDecoder d;
  EXPECT_THROW(test::run_decoder(d, {0, 0, 64, 64}, conv,
                                 Wire{}.u32(static_cast<std::uint32_t>(compressed.size())).raw(compressed).bytes, fb),
               ProtocolError);
}

TEST(ZrleDecoder_Decode, CorruptZlibIsProtocolError) {
  PixelBuffer fb(2, 2);
  PixelConverter conv;
  ZrleDecoder d;
  Wire w;
  w.u32(8);
  for (int i = 0; i < 8; ++i) w.u8(0xa5);
  EXPECT_THROW(test::run_decoder(d, {0, 0, 2, 2}, conv, w.bytes, fb), ProtocolError);
}

TEST(ZrleDecoder_Decode, InflatedDataBeyondBoundIsProtocolError) {
  PixelBuffer fb(1, 1);
  PixelConverter conv;
  ZrleDecoder d;
  Bytes bomb = Tiles{}.sub(1).cpx(1).bytes;
  bomb.resize(100000);  // a 1x1 rect can never need this much
  EXPECT_THROW(decode_tiles(d, {0, 0, 1, 1}, conv, bomb, fb), ProtocolError);
}

TEST(ZrleDecoder_Factory, MakeDecoderCreatesZrle) {
  EXPECT_NE(dynamic_cast<ZrleDecoder*>(make_decoder(Encoding::zrle).get()), nullptr);
}

}  // namespace
}  // namespace vncgate::rfb
