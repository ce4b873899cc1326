// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>

#include "framebuffer/pixel_buffer.hpp"

namespace vncgate::record {

// A file read by ranges: a local file or an object in S3 alike (FFmpeg asks for the parts it needs: the
// index, then the samples from the keyframe before the time on).
struct RangeSource {
  std::uint64_t size = 0;
  // Fills `into` from `offset`; returns the bytes read (fewer only at the end). Throws on a read fault.
  std::function<std::size_t(std::uint64_t offset, std::span<std::uint8_t> into)> read;
};

// A local regular file as a RangeSource (kept open by the source); nullopt when it cannot be opened.
std::optional<RangeSource> file_range_source(const std::string& path);

struct FrameLimits {
  int max_packets = 2000;  // decoded from the keyframe to the time at most (a keyframe is ≤ fps x 10 frames back)
  std::uint64_t max_pixels = 4096ull * 4096;
};

// The picture an MP4 recording (H.264, as the recorder writes it) shows at `seconds` from its start: seeks to
// the keyframe at or before it and decodes forward (FFmpeg's demuxer and decoder). A time past the end gives
// the last picture. Throws CodecError when the file is not such a recording or cannot be decoded.
framebuffer::PixelBuffer mp4_frame_at(const RangeSource& source, double seconds, const FrameLimits& limits = {});

}  // namespace vncgate::record
