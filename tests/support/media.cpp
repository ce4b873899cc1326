// SPDX-License-Identifier: Apache-2.0
#include "support/media.hpp"

#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "support/process.hpp"

namespace vncgate::test {

namespace {

// Runs a tool, returns stdout; stderr goes to `errors`.
std::string capture(const std::vector<std::string>& argv, std::string* errors = nullptr) {
  TempDir dir("vncgate-media");
  std::vector<std::string> shell{"sh", "-c", ""};
  std::string command;
  for (const auto& a : argv) command += "'" + a + "' ";
  shell[2] = command + "> '" + dir.file("out") + "' 2> '" + dir.file("err") + "'";
  const int rc = run_command(shell, dir.file("log"), std::chrono::seconds(120));
  if (errors) *errors = read_file(dir.file("err"));
  if (rc != 0)
    throw std::runtime_error(argv[0] + " failed (" + std::to_string(rc) + "): " + read_file(dir.file("err")));
  return read_file(dir.file("out"));
}

}  // namespace

std::vector<ProbedPacket> probe_packets(const std::string& path, std::string* warnings) {
  const auto text = capture({"ffprobe", "-v", "warning", "-select_streams", "v:0", "-show_entries",
                             "packet=pts_time,duration_time,flags", "-of", "csv=p=0", path},
                            warnings);
  std::vector<ProbedPacket> packets;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    ProbedPacket p;
    char flags[16] = {};
    if (std::sscanf(line.c_str(), "%lf,%lf,%15s", &p.pts, &p.duration, flags) < 2)
      throw std::runtime_error("unexpected ffprobe line: " + line);
    p.key = flags[0] == 'K';
    packets.push_back(p);
  }
  return packets;
}

double probe_duration(const std::string& path) {
  return std::stod(capture({"ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path}));
}

std::string probe_video_format(const std::string& path) {
  auto text = capture({"ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=profile,pix_fmt",
                       "-of", "csv=p=0", path});
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

std::vector<framebuffer::PixelBuffer> decode_frames(const std::string& path, int width, int height,
                                                    std::string* errors) {
  // Every coded frame once (no constant-rate duplication or dropping: a short last frame must not vanish).
  const auto raw =
      capture({"ffmpeg", "-v", "error", "-i", path, "-vsync", "passthrough", "-f", "rawvideo", "-pix_fmt", "bgr0", "-"},
              errors);
  const std::size_t frame_bytes = static_cast<std::size_t>(width) * height * 4;
  if (raw.size() % frame_bytes != 0)
    throw std::runtime_error("decoded " + std::to_string(raw.size()) + " bytes, not a multiple of the frame size");
  std::vector<framebuffer::PixelBuffer> frames;
  for (std::size_t offset = 0; offset < raw.size(); offset += frame_bytes) {
    framebuffer::PixelBuffer frame(width, height);
    std::memcpy(frame.pixels().data(), raw.data() + offset, frame_bytes);
    frames.push_back(std::move(frame));
  }
  return frames;
}

std::vector<int> h264_frame_nums(const std::string& path) {
  std::string trace;
  capture({"ffmpeg", "-v", "info", "-i", path, "-c", "copy", "-bsf:v", "trace_headers", "-f", "null", "-"}, &trace);
  // "[trace_headers @ 0x…] 17          frame_num                                                0000 = 0"
  std::vector<int> nums;
  std::istringstream lines(trace);
  for (std::string line; std::getline(lines, line);) {
    if (line.find(" frame_num ") == std::string::npos) continue;
    const auto eq = line.rfind("= ");
    if (eq != std::string::npos) nums.push_back(std::stoi(line.substr(eq + 2)));
  }
  return nums;
}

double psnr(const framebuffer::PixelBuffer& a, const framebuffer::PixelBuffer& b) {
  if (a.width() != b.width() || a.height() != b.height()) throw std::runtime_error("psnr: sizes differ");
  double sum = 0;
  for (std::size_t i = 0; i < a.pixels().size(); ++i) {
    const auto p = a.pixels()[i], q = b.pixels()[i];
    for (int shift : {0, 8, 16}) {
      const double d = static_cast<double>((p >> shift) & 0xff) - static_cast<double>((q >> shift) & 0xff);
      sum += d * d;
    }
  }
  if (sum == 0) return std::numeric_limits<double>::infinity();
  const double mse = sum / (a.pixels().size() * 3.0);
  return 10 * std::log10(255.0 * 255.0 / mse);
}

}  // namespace vncgate::test
