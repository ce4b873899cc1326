// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <vector>

#include "framebuffer/pixel_buffer.hpp"

namespace vncgate::test {

// One video packet as ffprobe (an independent reader) sees it.
struct ProbedPacket {
  double pts = 0;
  double duration = 0;
  bool key = false;
};

// The video packets of a media file (ffprobe -show_entries packet); throws std::runtime_error with ffprobe's
// message when it cannot read the file. `warnings` receives whatever ffprobe printed at level warning.
std::vector<ProbedPacket> probe_packets(const std::string& path, std::string* warnings = nullptr);
// The container's duration in seconds (ffprobe format=duration).
double probe_duration(const std::string& path);
// The first video stream's profile and pixel format as ffprobe names them, e.g. "High 4:4:4 Predictive,yuv444p".
std::string probe_video_format(const std::string& path);
// Every frame decoded by ffmpeg, converted to bgr0 (the canonical pixel), as separate images. `errors`
// receives what the decoder reported at level error.
std::vector<framebuffer::PixelBuffer> decode_frames(const std::string& path, int width, int height,
                                                    std::string* errors = nullptr);
// The H.264 frame_num of every slice in decoding order, as ffmpeg's trace_headers bitstream filter reads it.
std::vector<int> h264_frame_nums(const std::string& path);
// Peak signal-to-noise ratio over R, G and B in dB (infinity when identical).
double psnr(const framebuffer::PixelBuffer& a, const framebuffer::PixelBuffer& b);

}  // namespace vncgate::test
