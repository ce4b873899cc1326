// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for a segment sidecar's "fbs" list (record/sidecar.hpp), which the frame endpoint reads back
// from storage: any text gives a list or an empty one, never an exception. Checked invariants: a list read
// writes back and reads again the same, and the instant found for a segment time is in a listed file.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "record/sidecar.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vncgate::record;
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto places = fbs_places_of(text);
  SegmentRecord record;
  record.fbs = places;
  const auto again = fbs_places_of(to_json(record));
  bool same = again.size() == places.size();
  for (std::size_t i = 0; same && i < places.size(); ++i)
    same = again[i].file == places[i].file && again[i].offset_ms == places[i].offset_ms;
  if (!same) {
    std::fprintf(stderr, "the fbs list changed on a round trip through to_json\n");
    std::abort();
  }
  for (const std::int64_t segment_ms : {0LL, 1LL, 999LL, 60'000LL, 3'600'000LL}) {
    const auto instant = fbs_instant_at(places, segment_ms);
    if (!instant) continue;
    bool listed = false;
    for (const auto& place : places) listed = listed || place.file == instant->file;
    if (!listed) std::abort();
  }
  return 0;
}
