// SPDX-License-Identifier: Apache-2.0
#include "record/sidecar.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace vncgate::record {
namespace {

// A segment that began 5 s into recording.fbs, whose connection was lost and came back 2.5 s into the segment
// as recording-2.fbs: each instant is found in the file that was recording then, on that file's clock.
TEST(SegmentSidecar, FbsPlacesRoundTripAndFindTheFileOfAnInstant) {
  SegmentRecord r;
  r.start_ms = 60'000;
  r.end_ms = 70'000;
  r.fbs = {{"recording.fbs", 5'000}, {"recording-2.fbs", -2'500}};
  const auto places = fbs_places_of(to_json(r));
  ASSERT_EQ(places.size(), 2u);
  EXPECT_EQ(places[1].file, "recording-2.fbs");
  EXPECT_EQ(places[1].offset_ms, -2'500);

  auto at = [&](std::int64_t ms) { return fbs_instant_at(places, ms); };
  ASSERT_TRUE(at(0));
  EXPECT_EQ(at(0)->file, "recording.fbs");
  EXPECT_EQ(at(0)->ms, 5'000u);
  EXPECT_EQ(at(2'499)->file, "recording.fbs");
  EXPECT_EQ(at(2'499)->ms, 7'499u);
  EXPECT_EQ(at(2'500)->file, "recording-2.fbs");
  EXPECT_EQ(at(2'500)->ms, 0u);
  EXPECT_EQ(at(9'000)->ms, 6'500u);
}

TEST(SegmentSidecar, NoFbsOrAMalformedListGivesNoPlace) {
  EXPECT_TRUE(fbs_places_of(to_json(SegmentRecord{})).empty());
  EXPECT_EQ(nlohmann::json::parse(to_json(SegmentRecord{})).count("fbs"), 0u);
  for (const char* bad :
       {"", "not json", "[]", R"({"fbs": 1})", R"({"fbs": [{"file": 1, "offset_s": 0}]})",
        R"({"fbs": [{"file": "recording.fbs"}]})", R"({"fbs": [{"file": "recording.fbs", "offset_s": 1e300}]})",
        R"({"fbs": [{"file": "recording.fbs", "offset_s": "0"}]})"})
    EXPECT_TRUE(fbs_places_of(bad).empty()) << bad;
  // An instant before any file began (a segment whose only file opened later) has none.
  EXPECT_FALSE(fbs_instant_at({{"recording-2.fbs", -3'000}}, 1'000));
  EXPECT_FALSE(fbs_instant_at({}, 0));
}

}  // namespace
}  // namespace vncgate::record
