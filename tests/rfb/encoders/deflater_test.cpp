// SPDX-License-Identifier: Apache-2.0
// The encoders' Deflater against zlib's own inflate (what libvncclient and TigerVNC's viewers use): one stream
// over many updates, each update restarted, its pieces small (zlib's) and large (ISA-L's) in any order.
#include "rfb/encoders/deflater.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <random>
#include <vector>

namespace vncgate::rfb {
namespace {

// One viewer's inflater (zlib): fed the zlib header once, then every piece as it arrives.
class ZlibInflater {
 public:
  ZlibInflater() { EXPECT_EQ(inflateInit(&z_), Z_OK); }
  ~ZlibInflater() { inflateEnd(&z_); }
  ZlibInflater(const ZlibInflater&) = delete;
  ZlibInflater& operator=(const ZlibInflater&) = delete;

  std::vector<std::uint8_t> inflate_piece(std::vector<std::uint8_t> piece, std::size_t size) {
    if (first_) piece.insert(piece.begin(), kZlibHeader.begin(), kZlibHeader.end());
    first_ = false;
    std::vector<std::uint8_t> out(size);
    feed(piece, out);
    return out;
  }

 private:
  void feed(const std::vector<std::uint8_t>& in, std::vector<std::uint8_t>& out) {
    z_.next_in = const_cast<Bytef*>(in.data());
    z_.avail_in = static_cast<uInt>(in.size());
    z_.next_out = out.data();
    z_.avail_out = static_cast<uInt>(out.size());
    const int rc = inflate(&z_, Z_SYNC_FLUSH);
    EXPECT_EQ(rc, Z_OK);
    EXPECT_EQ(z_.avail_in, 0u);
    EXPECT_EQ(z_.avail_out, 0u);
  }
  z_stream z_{};
  bool first_ = true;
};

// Console-like data: a few lines of text repeated with changes, so pieces refer back into each other.
std::vector<std::uint8_t> piece(std::mt19937& rng, std::size_t size) {
  static const std::string lines =
      "drwxr-xr-x 2 root root 4096 Dec  6 01:20 bin\n-rw-r--r-- 1 root root 220 .profile\n";
  std::vector<std::uint8_t> out(size);
  for (std::size_t i = 0; i < size; ++i)
    out[i] = rng() % 16 == 0 ? static_cast<std::uint8_t>(rng()) : static_cast<std::uint8_t>(lines[i % lines.size()]);
  return out;
}

void round_trip(int level, bool favour_size = false) {
  std::mt19937 rng(7);
  Deflater deflater(level);
  if (favour_size) deflater.favour_size_below(32768, 6);  // Tight's full colour: zlib 6 up to 32 KiB here
  ZlibInflater viewer;
  std::size_t sizes[] = {40, 300, 9000, 60, 30000, 30000, 2047, 2048, 12, 65536, 1};
  for (int update = 0; update < 20; ++update) {
    deflater.restart(level);  // as TightEncoder does at each update's first use of a stream
    std::shuffle(std::begin(sizes), std::end(sizes), rng);
    std::vector<std::uint8_t> previous;
    for (const std::size_t size : sizes) {
      // Every other piece repeats the one before it: an engine that kept history across the other's piece
      // would find the match at a distance that is wrong in the viewer's window.
      const auto data = (size % 2 == 0 && previous.size() == size) ? previous : piece(rng, size);
      std::vector<std::uint8_t> bytes;
      deflater.compress(data, bytes);
      ASSERT_EQ(viewer.inflate_piece(bytes, data.size()), data) << "level " << level << ", update " << update;
      previous = data;
    }
  }
}

TEST(Deflater, OneStreamOfPiecesOfEverySizeInflatesWithZlib_AtEveryLevel) {
  for (int level : {0, 1, 2, 3, 6, 9}) round_trip(level);
}

TEST(Deflater, FavouringSizeKeepsOneStreamAndCompressesTextBetter) {
  for (int level : {0, 1, 2, 3, 9}) round_trip(level, true);
  // Console text of 8 KiB (ISA-L's by default at level 2) comes out smaller; level 0 stays uncompressed.
  std::mt19937 rng(5);
  const auto text = piece(rng, 8192);
  auto size_of = [&](int level, bool favour) {
    Deflater deflater(level);
    if (favour) deflater.favour_size_below(65536, 6);
    std::vector<std::uint8_t> bytes;
    deflater.compress(text, bytes);
    return bytes.size();
  };
  EXPECT_LT(size_of(2, true), size_of(2, false));
  EXPECT_GT(size_of(0, true), text.size());
}

// A stream restarted at another level goes on in the viewer's inflater without a reset.
TEST(Deflater, ALevelChangeContinuesTheStream) {
  std::mt19937 rng(3);
  Deflater deflater(2);
  ZlibInflater viewer;
  for (int level : {2, 6, 1, 0, 3, 9, 2}) {
    deflater.restart(level);
    EXPECT_EQ(deflater.level(), level);
    for (const std::size_t size : {100u, 20000u}) {
      const auto data = piece(rng, size);
      std::vector<std::uint8_t> bytes;
      deflater.compress(data, bytes);
      ASSERT_EQ(viewer.inflate_piece(bytes, data.size()), data) << "level " << level;
    }
  }
}

}  // namespace
}  // namespace vncgate::rfb
