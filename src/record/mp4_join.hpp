// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vncgate::record {

struct JoinPart {
  std::string path;              // an MP4 written by Mp4Writer, starting with a keyframe
  std::int64_t offset_ms = 0;    // where its time 0 lands in the joined file
  std::int64_t duration_ms = 0;  // its length: its last frame lasts until then
};

// Joins the parts' video into one fragmented MP4 at `output`, packets copied (no re-encoding), each part's
// timeline shifted by its offset; each frame lasts until the next, the last of a part until the part's end
// (the demuxer's durations of fragmented MP4 samples are not the written ones). The parts must come from encoders with
// the same settings and size (the same SPS/PPS), so one decoder plays them all; returns false, writing nothing, when
// their codec parameters differ. Throws CodecError when a part cannot be read or the output written.
bool join_mp4(const std::vector<JoinPart>& parts, const std::string& output);

}  // namespace vncgate::record
