// SPDX-License-Identifier: Apache-2.0
#include "io/zlib_stream.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "rfb/decoders/deflate_test_util.hpp"
#include "util/error.hpp"

namespace vncgate::io {
namespace {

using Bytes = std::vector<std::uint8_t>;
using rfb::test::Deflater;

// Chunks that refer back to earlier ones (repeated rows, as a console's): they only inflate with the dictionary.
std::vector<Bytes> chunks() {
  std::vector<Bytes> out;
  Bytes row;
  for (int i = 0; i < 700; ++i) row.push_back(static_cast<std::uint8_t>((i * 37) ^ (i >> 3)));
  for (int n = 0; n < 4; ++n) {
    Bytes chunk;
    for (int r = 0; r < 3; ++r) chunk.insert(chunk.end(), row.begin(), row.end());
    chunk.push_back(static_cast<std::uint8_t>(n));
    out.push_back(chunk);
  }
  return out;
}

TEST(ZlibInflater_Hibernate, BetweenChunksResumesTheStreamExactly) {
  Deflater z;
  ZlibInflater inflater;
  EXPECT_TRUE(inflater.hibernate());  // never used: nothing to keep
  for (const Bytes& plain : chunks()) {
    const Bytes wire = z(plain);
    Bytes out(plain.size());
    inflater.inflate_exact(wire, out);
    EXPECT_EQ(out, plain);
    ASSERT_TRUE(inflater.hibernate());
    EXPECT_TRUE(inflater.hibernating());
    EXPECT_TRUE(inflater.hibernate());  // again: no-op
  }
  // A chunk made only of back-references into the previous ones (the deflater's window).
  const Bytes again = chunks()[1];
  Bytes out;
  inflater.inflate_all(z(again), out, 1 << 20);
  EXPECT_EQ(out, again);
  EXPECT_FALSE(inflater.hibernating());
}

TEST(ZlibInflater_Hibernate, RefusedInsideAChunkAndTheStreamGoesOn) {
  Deflater z;
  ZlibInflater inflater;
  const Bytes plain = chunks()[0];
  const Bytes wire = z(plain);
  Bytes out;
  const std::size_t half = wire.size() / 2;
  inflater.inflate_all({wire.data(), half}, out, 1 << 20);
  EXPECT_FALSE(inflater.hibernate());  // mid-block: the state is more than the window
  EXPECT_FALSE(inflater.hibernating());
  inflater.inflate_all({wire.data() + half, wire.size() - half}, out, 1 << 20);
  EXPECT_EQ(out, plain);
}

TEST(ZlibInflater_Hibernate, ResetForgetsTheDictionary) {
  Deflater first;
  ZlibInflater inflater;
  Bytes out;
  inflater.inflate_all(first(chunks()[0]), out, 1 << 20);
  ASSERT_TRUE(inflater.hibernate());
  inflater.reset();
  EXPECT_FALSE(inflater.hibernating());
  Deflater second;  // a new stream, with its zlib header: accepted only by a fresh inflater
  out.clear();
  inflater.inflate_all(second(chunks()[2]), out, 1 << 20);
  EXPECT_EQ(out, chunks()[2]);
}

// The stream's zlib header is read by us (the inflate itself is raw deflate): it may arrive split over chunks.
TEST(ZlibInflater, HeaderSplitOverChunksAndChunksOfAnySize) {
  Deflater z;
  ZlibInflater inflater;
  const Bytes wire = z(chunks()[0]);
  Bytes out;
  inflater.inflate_all({wire.data(), 1}, out, 1 << 20);
  EXPECT_TRUE(out.empty());
  for (std::size_t at = 1; at < wire.size(); at += 7)
    inflater.inflate_all({wire.data() + at, std::min<std::size_t>(7, wire.size() - at)}, out, 1 << 20);
  EXPECT_EQ(out, chunks()[0]);
}

TEST(ZlibInflater, RefusesABadHeaderAPresetDictionaryAndCorruptData) {
  Bytes out(16);
  const Bytes not_deflate = {0x79, 0x9c, 0x00};  // compression method 9
  EXPECT_THROW(ZlibInflater().inflate_exact(not_deflate, out), ProtocolError);
  const Bytes bad_check = {0x78, 0x9d, 0x00};
  EXPECT_THROW(ZlibInflater().inflate_exact(bad_check, out), ProtocolError);
  const Bytes preset = {0x78, 0xbb, 0, 0, 0, 1};  // FDICT set (0x78bb % 31 == 0)
  EXPECT_THROW(ZlibInflater().inflate_exact(preset, out), ProtocolError);
  const Bytes reserved_block = {0x78, 0x9c, 0x07, 0xff, 0xff};  // block type 3
  EXPECT_THROW(ZlibInflater().inflate_exact(reserved_block, out), ProtocolError);
  Bytes all;
  EXPECT_THROW(ZlibInflater().inflate_all(reserved_block, all, 1 << 20), ProtocolError);
}

TEST(ZlibInflater, ExactOutputOrAClearError) {
  Deflater z;
  const Bytes plain = chunks()[0];
  const Bytes wire = z(plain);
  {
    ZlibInflater inflater;
    Bytes less(plain.size() - 1);
    EXPECT_THROW(inflater.inflate_exact(wire, less), ProtocolError);  // the chunk holds more than the rectangle
  }
  {
    ZlibInflater inflater;
    Bytes more(plain.size() + 1);
    EXPECT_THROW(inflater.inflate_exact(wire, more), ProtocolError);  // the chunk ends short
  }
  {
    ZlibInflater inflater;
    Bytes all;
    EXPECT_THROW(inflater.inflate_all(wire, all, plain.size() - 1), ProtocolError);  // over the limit
  }
}

// Chunks far larger than ISA-L's 64 KiB internal buffer (decoded straight into the caller's memory), then small
// ones referring back into them, across a hibernation: the window is the last 32 KiB whichever path wrote them.
TEST(ZlibInflater_Hibernate, AfterALargeChunkTheWindowIsItsEnd) {
  std::mt19937 random(7);
  Bytes big(300000);
  for (auto& b : big) b = static_cast<std::uint8_t>(random() % 5);  // compressible, but not runs
  const Bytes tail(big.end() - 1000, big.end());
  Deflater z;
  ZlibInflater inflater;
  Bytes out(big.size());
  inflater.inflate_exact(z(big), out);
  ASSERT_EQ(out, big);
  ASSERT_TRUE(inflater.hibernate());
  Bytes again(tail.size());
  inflater.inflate_exact(z(tail), again);  // deflate codes this as one back-reference into the window
  EXPECT_EQ(again, tail);
}

}  // namespace
}  // namespace vncgate::io
