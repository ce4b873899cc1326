// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for fbs::Reader + fbs::Replay (+ the index parser): the input is a whole .fbs file.
// Damage after the header must never throw or crash: the reader stops with a reason and the replay keeps the
// frames before it. Checked invariants: blocks are contiguous and in time order, good_bytes never passes the
// input, a clean end means the whole input was read, every frame's damage lies inside its picture, frame
// times never decrease and none lies past the replay's end, which equals the summary's duration. The same bytes
// also go through parse_index (it must not crash).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "fbs/format.hpp"
#include "fbs/index.hpp"
#include "fbs/reader.hpp"
#include "fbs/replay.hpp"
#include "util/error.hpp"

namespace {

using namespace vncgate;

[[noreturn]] void broken(const std::string& what) {
  std::fprintf(stderr, "fbs invariant broken: %s\n", what.c_str());
  std::abort();
}

void check_blocks(const std::vector<std::uint8_t>& input) {
  fbs::Reader reader = fbs::Reader::from_bytes(input);
  std::uint64_t expected_offset = fbs::kMagicSize;
  std::uint32_t last_ms = 0;
  while (auto block = reader.next()) {
    if (block->offset != expected_offset) broken("block offsets not contiguous");
    if (block->ms < last_ms) broken("timestamps went backwards");
    last_ms = block->ms;
    expected_offset += 8 + fbs::padded4(block->data.size());
  }
  const auto& status = reader.status();
  if (status.good_bytes > input.size()) broken("good_bytes beyond the input");
  if (status.reason == fbs::StopReason::end && status.good_bytes != input.size()) broken("clean end before the end");
  if (status.reason == fbs::StopReason::reading) broken("reader stopped without a reason");
  if (status.message.empty()) broken("no message for the stop");
}

void check_replay(const std::vector<std::uint8_t>& input) {
  std::uint32_t last_ms = 0;
  const auto result = fbs::Replay(fbs::Reader::from_bytes(input)).run([&](const fbs::Frame& f) {
    if (!f.damage.inside(f.pixels.width(), f.pixels.height())) broken("damage outside the picture");
    if (f.ms < last_ms) broken("frame times went backwards");
    last_ms = f.ms;
    return true;
  });
  // The recording's length (time marks and end markers included) is the same from the replay and the summary,
  // and no frame lies beyond it.
  if (result.decode_error.empty()) {
    if (result.last_ms < last_ms) broken("a frame after the recording's end");
    if (!result.read.damaged() && summarize(fbs::Reader::from_bytes(input)).duration_ms != result.last_ms)
      broken("replay and summary disagree on the length");
  }
  if (std::getenv("VNCGATE_FUZZ_VERBOSE"))
    std::fprintf(stderr, "frames %llu last_ms %u read: %s decode: %s\n", static_cast<unsigned long long>(result.frames),
                 result.last_ms, result.read.message.c_str(), result.decode_error.c_str());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<std::uint8_t> input(data, data + size);
  (void)fbs::parse_index(input);
  try {
    fbs::Reader::from_bytes(input);
  } catch (const ProtocolError&) {
    return 0;  // not an FBS header: the only case that throws
  }
  check_blocks(input);
  check_replay(input);
  return 0;
}
