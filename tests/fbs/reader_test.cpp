// SPDX-License-Identifier: Apache-2.0
#include "fbs/reader.hpp"

#include <gtest/gtest.h>

#include "fbs/fbs_test_util.hpp"
#include "util/error.hpp"

namespace vncgate::fbs {
namespace {

using namespace test;

std::vector<std::uint8_t> file_with(std::initializer_list<std::pair<std::vector<std::uint8_t>, std::uint32_t>> blocks,
                                    std::string_view magic = kMagic001) {
  std::vector<std::uint8_t> f(magic.begin(), magic.end());
  for (const auto& [data, ms] : blocks) add_block(f, data, ms);
  return f;
}

TEST(FbsReader_Header, WrongMagicThrowsProtocolError) {
  for (std::string bad : {"", "FBS 001", "RFB 003.008\n", "fbs 001.001\n"}) {
    try {
      Reader::from_bytes({bad.begin(), bad.end()});
      FAIL() << "accepted '" << bad << "'";
    } catch (const ProtocolError& e) {
      EXPECT_NE(std::string(e.what()).find("not an FBS recording"), std::string::npos) << e.what();
    }
  }
}

TEST(FbsReader_Header, UnknownMinorVersionIsNamed) {
  const std::string v = "FBS 001.002\n";
  try {
    Reader::from_bytes({v.begin(), v.end()});
    FAIL();
  } catch (const ProtocolError& e) {
    EXPECT_NE(std::string(e.what()).find("unsupported FBS version 'FBS 001.002'"), std::string::npos) << e.what();
  }
}

TEST(FbsReader_Blocks, ReadsPaddedBlocksOfBothVersions) {
  for (auto magic : {kMagic000, kMagic001}) {
    auto r = Reader::from_bytes(file_with({{{1, 2, 3}, 0}, {{4, 5, 6, 7, 8}, 40}}, magic));
    EXPECT_EQ(r.minor_version(), magic == kMagic000 ? 0 : 1);
    auto a = r.next();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->data, (std::vector<std::uint8_t>{1, 2, 3}));
    EXPECT_EQ(a->offset, 12u);
    auto b = r.next();
    ASSERT_TRUE(b);
    EXPECT_EQ(b->data, (std::vector<std::uint8_t>{4, 5, 6, 7, 8}));
    EXPECT_EQ(b->ms, 40u);
    EXPECT_EQ(b->offset, 24u);
    EXPECT_FALSE(r.next());
    EXPECT_EQ(r.status().reason, StopReason::end);
    EXPECT_FALSE(r.status().damaged());
    EXPECT_EQ(r.status().blocks, 2u);
    EXPECT_EQ(r.status().last_ms, 40u);
  }
}

TEST(FbsReader_Blocks, ZeroLengthBlockIsEndMarker) {
  auto r = Reader::from_bytes(file_with({{{1}, 0}, {{}, 5}, {{2}, 6}}));
  EXPECT_TRUE(r.next());
  EXPECT_FALSE(r.next());
  EXPECT_EQ(r.status().reason, StopReason::end_marker);
  EXPECT_FALSE(r.status().damaged());
  // rfbproxy's "timestamped EOF": the recording lasted until the marker's time.
  EXPECT_EQ(r.status().last_ms, 5u);
  EXPECT_EQ(summarize(Reader::from_bytes(file_with({{{1}, 0}, {{}, 5}}))).duration_ms, 5u);
}

TEST(FbsReader_Damage, TruncationAtEveryOffsetKeepsWholeBlocks) {
  const auto full = file_with({{{1, 2, 3}, 0}, {{4, 5, 6, 7, 8}, 40}, {{9}, 41}});
  const std::vector<std::size_t> block_ends{12, 24, 40, 52};
  for (std::size_t n = kMagicSize; n < full.size(); ++n) {
    auto r = Reader::from_bytes({full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n)});
    std::size_t blocks = 0;
    while (r.next()) ++blocks;
    const bool at_boundary = std::find(block_ends.begin(), block_ends.end(), n) != block_ends.end();
    EXPECT_EQ(r.status().reason, at_boundary ? StopReason::end : StopReason::truncated) << n;
    EXPECT_LE(r.status().good_bytes, n);
    EXPECT_EQ(blocks, static_cast<std::size_t>(std::upper_bound(block_ends.begin(), block_ends.end(), n) -
                                               block_ends.begin() - 1))
        << n;
    if (!at_boundary) {
      EXPECT_NE(r.status().message.find("truncated"), std::string::npos) << r.status().message;
    }
  }
}

TEST(FbsReader_Damage, AbsurdLengthStops) {
  auto f = file_with({{{1}, 0}});
  put_u32(f, 0x7fffffff);
  auto r = Reader::from_bytes(f);
  EXPECT_TRUE(r.next());
  EXPECT_FALSE(r.next());
  EXPECT_EQ(r.status().reason, StopReason::absurd_length);
  EXPECT_EQ(r.status().good_bytes, 24u);
  EXPECT_NE(r.status().message.find("block length 2147483647 at offset 24"), std::string::npos) << r.status().message;
}

TEST(FbsReader_Damage, BackwardsTimestampStopsAfterGoodBlocks) {
  auto r = Reader::from_bytes(file_with({{{1}, 0}, {{2}, 500}, {{3}, 499}}));
  EXPECT_TRUE(r.next());
  EXPECT_TRUE(r.next());
  EXPECT_FALSE(r.next());
  EXPECT_EQ(r.status().reason, StopReason::timestamp_backwards);
  EXPECT_TRUE(r.status().damaged());
  EXPECT_EQ(r.status().last_ms, 500u);
  EXPECT_NE(r.status().message.find("499 ms after 500 ms"), std::string::npos) << r.status().message;
}

TEST(FbsReader_Damage, AbsurdTimestampJumpStops) {
  auto r = Reader::from_bytes(file_with({{{1}, 0}, {{2}, 0xfffffff0u}}));
  EXPECT_TRUE(r.next());
  EXPECT_FALSE(r.next());
  EXPECT_EQ(r.status().reason, StopReason::timestamp_jump);
  auto first = Reader::from_bytes(file_with({{{1}, kMaxTimestampJumpMs + 1}}));
  EXPECT_FALSE(first.next());
  EXPECT_EQ(first.status().reason, StopReason::timestamp_jump);
}

TEST(FbsReader_Summary, DurationAndSizeUpToTheDamage) {
  auto f = file_with({{{1, 2, 3}, 0}, {{4, 5, 6, 7, 8}, 40}, {{9}, 41}}, kMagic000);
  f.resize(f.size() - 2);
  const auto s = summarize(Reader::from_bytes(f));
  EXPECT_EQ(s.minor_version, 0);
  EXPECT_EQ(s.duration_ms, 40u);
  EXPECT_EQ(s.blocks, 2u);
  EXPECT_EQ(s.data_bytes, 8u);
  EXPECT_EQ(s.status.reason, StopReason::truncated);
}

TEST(FbsReader_Seek, ContinuesAtBlockStart) {
  auto r = Reader::from_bytes(file_with({{{1, 2, 3}, 0}, {{4, 5, 6, 7, 8}, 40}, {{9}, 41}}));
  r.seek(24, 0);
  auto b = r.next();
  ASSERT_TRUE(b);
  EXPECT_EQ(b->ms, 40u);
  r.seek(40, 45);
  EXPECT_FALSE(r.next());
  EXPECT_EQ(r.status().reason, StopReason::timestamp_backwards);
}

}  // namespace
}  // namespace vncgate::fbs
