// SPDX-License-Identifier: Apache-2.0
#include <zlib.h>

#include "rfb/decoders/copy_rect_decoder.hpp"
#include "rfb/decoders/decoder_test_util.hpp"
#include "rfb/decoders/hextile_decoder.hpp"
#include "rfb/decoders/raw_decoder.hpp"
#include "rfb/decoders/rre_decoder.hpp"
#include "rfb/decoders/zlib_decoder.hpp"
#include "util/error.hpp"

namespace vncgate::rfb {
namespace {

using test::Wire;

TEST(RawDecoder_Decode, CanonicalPixelsLandInRect) {
  PixelBuffer fb(4, 4);
  PixelConverter conv;
  RawDecoder d;
  Wire w;
  w.px(0x112233).px(0x445566).px(0x778899).px(0xaabbcc);
  test::run_decoder(d, {1, 2, 2, 2}, conv, w.bytes, fb);
  EXPECT_EQ(fb.at(1, 2), 0x112233u);
  EXPECT_EQ(fb.at(2, 2), 0x445566u);
  EXPECT_EQ(fb.at(1, 3), 0x778899u);
  EXPECT_EQ(fb.at(2, 3), 0xaabbccu);
  EXPECT_EQ(fb.at(0, 0), 0u);
  test::expect_gather_needs_all(d, {1, 2, 2, 2}, conv.format(), w.bytes);
}

TEST(RawDecoder_Decode, Rgb565BigEndianExpandsTo8Bits) {
  PixelFormat pf = PixelFormat::rgb565();
  pf.big_endian = true;
  PixelConverter conv(pf);
  PixelBuffer fb(2, 1);
  RawDecoder d;
  Wire w;
  w.u16(0xf800).u16(0x07e0);  // pure red, pure green
  test::run_decoder(d, {0, 0, 2, 1}, conv, w.bytes, fb);
  EXPECT_EQ(fb.at(0, 0), 0xff0000u);
  EXPECT_EQ(fb.at(1, 0), 0x00ff00u);
}

TEST(RawDecoder_Decode, ColourMapEntriesApply) {
  PixelConverter conv(PixelFormat::colour_map8());
  std::array<std::uint16_t, 3> colours[2] = {{0xffff, 0, 0}, {0, 0, 0x8000}};
  conv.set_colour_map_entries(5, colours);
  PixelBuffer fb(2, 1);
  RawDecoder d;
  test::run_decoder(d, {0, 0, 2, 1}, conv, {5, 6}, fb);
  EXPECT_EQ(fb.at(0, 0), 0xff0000u);
  EXPECT_EQ(fb.at(1, 0), 0x000080u);
}

TEST(CopyRectDecoder_Decode, OverlappingMoveDownIsCorrect) {
  PixelBuffer fb(1, 4);
  for (int y = 0; y < 4; ++y) fb.row(y)[0] = static_cast<Pixel>(y + 1);
  PixelConverter conv;
  CopyRectDecoder d;
  test::run_decoder(d, {0, 1, 1, 3}, conv, Wire{}.u16(0).u16(0).bytes, fb);
  EXPECT_EQ(fb.at(0, 0), 1u);
  EXPECT_EQ(fb.at(0, 1), 1u);
  EXPECT_EQ(fb.at(0, 2), 2u);
  EXPECT_EQ(fb.at(0, 3), 3u);
}

TEST(CopyRectDecoder_Decode, SourceOutsideFramebufferIsProtocolError) {
  PixelBuffer fb(4, 4);
  PixelConverter conv;
  CopyRectDecoder d;
  EXPECT_THROW(test::run_decoder(d, {0, 0, 2, 2}, conv, Wire{}.u16(3).u16(0).bytes, fb), ProtocolError);
}

TEST(RreDecoder_Decode, BackgroundAndSubrects) {
  PixelBuffer fb(4, 4);
  PixelConverter conv;
  RreDecoder d;
  Wire w;
  w.u32(1).px(0x0000ff).px(0xff0000).u16(1).u16(1).u16(2).u16(1);
  test::run_decoder(d, {0, 0, 4, 4}, conv, w.bytes, fb);
  EXPECT_EQ(fb.at(0, 0), 0x0000ffu);
  EXPECT_EQ(fb.at(1, 1), 0xff0000u);
  EXPECT_EQ(fb.at(2, 1), 0xff0000u);
  EXPECT_EQ(fb.at(3, 1), 0x0000ffu);
  test::expect_gather_needs_all(d, {0, 0, 4, 4}, conv.format(), w.bytes);
}

TEST(RreDecoder_Decode, SubrectOutsideIsProtocolError) {
  PixelBuffer fb(4, 4);
  PixelConverter conv;
  RreDecoder d;
  Wire w;
  w.u32(1).px(0).px(1).u16(3).u16(3).u16(2).u16(1);
  EXPECT_THROW(test::run_decoder(d, {0, 0, 4, 4}, conv, w.bytes, fb), ProtocolError);
}

TEST(RreDecoder_Gather, HugeCountIsProtocolError) {
  RreDecoder d;
  InBuffer in;
  in.append(Wire{}.u32(0xffffffff).bytes);
  std::vector<std::uint8_t> payload;
  EXPECT_THROW(d.gather(in, {0, 0, 4, 4}, PixelFormat::canonical(), payload), ProtocolError);
}

TEST(HextileDecoder_Decode, RawTileThenSubrectsWithCarriedColours) {
  PixelBuffer fb(20, 2);
  PixelConverter conv;
  HextileDecoder d;
  Wire w;
  // Tile 1 (16x2): background red, foreground green, one subrect at (1,0) 2x1.
  w.u8(2 | 4 | 8).px(0xff0000).px(0x00ff00).u8(1).u8(0x10).u8(0x10);
  // Tile 2 (4x2): no flags: keeps the red background.
  w.u8(0);
  test::run_decoder(d, {0, 0, 20, 2}, conv, w.bytes, fb);
  EXPECT_EQ(fb.at(0, 0), 0xff0000u);
  EXPECT_EQ(fb.at(1, 0), 0x00ff00u);
  EXPECT_EQ(fb.at(2, 0), 0x00ff00u);
  EXPECT_EQ(fb.at(3, 0), 0xff0000u);
  EXPECT_EQ(fb.at(19, 1), 0xff0000u);
  test::expect_gather_needs_all(d, {0, 0, 20, 2}, conv.format(), w.bytes);
}

TEST(HextileDecoder_Decode, SubrectBeyondPartialTileIsProtocolError) {
  PixelBuffer fb(4, 4);
  PixelConverter conv;
  HextileDecoder d;
  Wire w;
  w.u8(2 | 4 | 8).px(0).px(1).u8(1).u8(0x33).u8(0x11);  // at (3,3) size 2x2 in a 4x4 tile
  EXPECT_THROW(test::run_decoder(d, {0, 0, 4, 4}, conv, w.bytes, fb), ProtocolError);
}

std::vector<std::uint8_t> deflate_sync(z_stream& z, const std::vector<std::uint8_t>& in) {
  std::vector<std::uint8_t> out(in.size() + 128);
  z.next_in = const_cast<Bytef*>(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_SYNC_FLUSH), Z_OK);
  out.resize(out.size() - z.avail_out);
  return out;
}

TEST(ZlibDecoder_Decode, StreamContinuesAcrossRects) {
  z_stream z{};
  ASSERT_EQ(deflateInit(&z, 6), Z_OK);
  PixelBuffer fb(2, 2);
  PixelConverter conv;
  ZlibDecoder d;
  for (int row = 0; row < 2; ++row) {
    auto pixels = Wire{}.px(0x010203 * (row + 1)).px(0x040506).bytes;
    auto compressed = deflate_sync(z, pixels);
    test::run_decoder(d, {0, row, 2, 1}, conv,
                      Wire{}.u32(static_cast<std::uint32_t>(compressed.size())).raw(compressed).bytes, fb);
  }
  deflateEnd(&z);
  EXPECT_EQ(fb.at(0, 0), 0x010203u);
  EXPECT_EQ(fb.at(0, 1), 0x020406u);
  EXPECT_EQ(fb.at(1, 1), 0x040506u);
}

TEST(ZlibDecoder_Decode, TruncatedStreamIsProtocolError) {
  z_stream z{};
  ASSERT_EQ(deflateInit(&z, 6), Z_OK);
  auto compressed = deflate_sync(z, Wire{}.px(1).bytes);  // one pixel for a 2-pixel rect
  deflateEnd(&z);
  PixelBuffer fb(2, 1);
  PixelConverter conv;
  ZlibDecoder d;
  EXPECT_THROW(test::run_decoder(d, {0, 0, 2, 1}, conv,
                                 Wire{}.u32(static_cast<std::uint32_t>(compressed.size())).raw(compressed).bytes, fb),
               ProtocolError);
}

TEST(ZlibDecoder_Gather, OversizedLengthIsProtocolError) {
  ZlibDecoder d;
  InBuffer in;
  in.append(Wire{}.u32(0xfffffff0).bytes);
  std::vector<std::uint8_t> payload;
  EXPECT_THROW(d.gather(in, {0, 0, 1, 1}, PixelFormat::canonical(), payload), ProtocolError);
}

}  // namespace
}  // namespace vncgate::rfb
