// SPDX-License-Identifier: Apache-2.0
#include "io/zlib_stream.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "rfb/decoders/deflate_test_util.hpp"

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

}  // namespace
}  // namespace vncgate::io
