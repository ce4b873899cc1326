// SPDX-License-Identifier: Apache-2.0
// The MP4 container as the recorder writes it (internal to src/record): shared by Mp4Writer and the joining
// of converted parts, so both write the same kind of file.
#pragma once

#include <string>

extern "C" {
#include <libavformat/avformat.h>
}

namespace vncgate::record {

// Throws CodecError naming `what` and libav's reason when `rc` is an error.
void check_av(int rc, const std::string& what);

// Creates `path` and writes the header of `format` (an "mp4" output context whose stream is set up) as
// fragmented MP4: the header is complete up front and every frame is its own self-contained fragment on disk
// as soon as its duration is known (~100 bytes a frame of overhead), so a killed process leaves a playable
// file up to its last frame.
void start_fragmented_mp4(AVFormatContext* format, const std::string& path);

}  // namespace vncgate::record
