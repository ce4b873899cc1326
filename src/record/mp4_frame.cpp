// SPDX-License-Identifier: Apache-2.0
#include "record/mp4_frame.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <exception>
#include <memory>

#include "record/av_ptr.hpp"
#include "util/error.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/mem.h>
#include <libswscale/swscale.h>
}

namespace vncgate::record {
namespace {

constexpr int kIoBuffer = 64 * 1024;

// FFmpeg's custom-I/O callbacks over a RangeSource; a read fault is kept to be rethrown as it was.
struct RangeReader {
  const RangeSource& source;
  std::uint64_t position = 0;
  std::exception_ptr fault;

  static int read(void* opaque, std::uint8_t* buffer, int size) {
    auto& self = *static_cast<RangeReader*>(opaque);
    if (self.position >= self.source.size) return AVERROR_EOF;
    const auto wanted = static_cast<std::size_t>(std::min<std::uint64_t>(size, self.source.size - self.position));
    try {
      const auto got = self.source.read(self.position, {buffer, wanted});
      if (got == 0) return AVERROR_EOF;
      self.position += got;
      return static_cast<int>(got);
    } catch (...) {
      self.fault = std::current_exception();
      return AVERROR(EIO);
    }
  }

  static std::int64_t seek(void* opaque, std::int64_t offset, int whence) {
    auto& self = *static_cast<RangeReader*>(opaque);
    const auto size = static_cast<std::int64_t>(self.source.size);
    std::int64_t to = 0;
    switch (whence & ~AVSEEK_FORCE) {
      case AVSEEK_SIZE: return size;
      case SEEK_SET: to = offset; break;
      case SEEK_CUR: to = static_cast<std::int64_t>(self.position) + offset; break;
      case SEEK_END: to = size + offset; break;
      default: return AVERROR(EINVAL);
    }
    if (to < 0) return AVERROR(EINVAL);
    self.position = static_cast<std::uint64_t>(to);
    return to;
  }
};

struct IoContextDeleter {
  void operator()(AVIOContext* io) const {
    av_freep(&io->buffer);
    avio_context_free(&io);
  }
};
struct InputDeleter {
  void operator()(AVFormatContext* f) const { avformat_close_input(&f); }
};
struct ScaleDeleter {
  void operator()(SwsContext* s) const { sws_freeContext(s); }
};

framebuffer::PixelBuffer to_pixels(const AVFrame& frame) {
  std::unique_ptr<SwsContext, ScaleDeleter> scale(
      sws_getContext(frame.width, frame.height, static_cast<AVPixelFormat>(frame.format), frame.width, frame.height,
                     AV_PIX_FMT_BGR0, SWS_BICUBIC | SWS_FULL_CHR_H_INT | SWS_ACCURATE_RND, nullptr, nullptr, nullptr));
  if (!scale) throw CodecError("cannot convert the recording's pictures");
  framebuffer::PixelBuffer pixels(frame.width, frame.height);
  // framebuffer::Pixel is 0x00RRGGBB: bytes B, G, R, 0 in memory, FFmpeg's bgr0.
  std::uint8_t* planes[4] = {reinterpret_cast<std::uint8_t*>(pixels.row(0)), nullptr, nullptr, nullptr};
  int strides[4] = {frame.width * 4, 0, 0, 0};
  sws_scale(scale.get(), frame.data, frame.linesize, 0, frame.height, planes, strides);
  return pixels;
}

}  // namespace

std::optional<RangeSource> file_range_source(const std::string& path) {
  const int fd = path.empty() ? -1 : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (fd < 0) return std::nullopt;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return std::nullopt;
  }
  auto file = std::shared_ptr<int>(new int(fd), [](int* f) {
    ::close(*f);
    delete f;
  });
  return RangeSource{static_cast<std::uint64_t>(st.st_size),
                     [file](std::uint64_t offset, std::span<std::uint8_t> into) {
                       const auto n = ::pread(*file, into.data(), into.size(), static_cast<off_t>(offset));
                       if (n < 0) throw IoError(std::string("reading a recording: ") + std::strerror(errno));
                       return static_cast<std::size_t>(n);
                     }};
}

framebuffer::PixelBuffer mp4_frame_at(const RangeSource& source, double seconds, const FrameLimits& limits) {
  if (!std::isfinite(seconds) || seconds < 0) throw CodecError("the time must be a number of seconds >= 0");
  RangeReader reader{source};
  auto* buffer = static_cast<std::uint8_t*>(av_malloc(kIoBuffer));
  if (!buffer) throw std::bad_alloc();
  std::unique_ptr<AVIOContext, IoContextDeleter> io(
      avio_alloc_context(buffer, kIoBuffer, 0, &reader, &RangeReader::read, nullptr, &RangeReader::seek));
  if (!io) {
    av_free(buffer);
    throw std::bad_alloc();
  }
  auto rethrow_read_fault = [&reader] {
    if (reader.fault) std::rethrow_exception(reader.fault);
  };

  AVFormatContext* raw = avformat_alloc_context();
  if (!raw) throw std::bad_alloc();
  raw->pb = io.get();
  raw->flags |= AVFMT_FLAG_CUSTOM_IO;
  if (avformat_open_input(&raw, nullptr, av_find_input_format("mp4"), nullptr) < 0) {  // frees raw on failure
    rethrow_read_fault();
    throw CodecError("not an MP4 recording");
  }
  std::unique_ptr<AVFormatContext, InputDeleter> input(raw);
  const AVCodec* decoder = nullptr;
  const int index = av_find_best_stream(input.get(), AVMEDIA_TYPE_VIDEO, -1, -1, &decoder, 0);
  if (index < 0 || !decoder) throw CodecError("the recording has no video that can be decoded");
  const AVStream& stream = *input->streams[index];
  if (stream.codecpar->width <= 0 || stream.codecpar->height <= 0 ||
      static_cast<std::uint64_t>(stream.codecpar->width) * static_cast<std::uint64_t>(stream.codecpar->height) >
          limits.max_pixels)
    throw CodecError("the recording's picture size is out of range");

  CodecContextPtr codec(avcodec_alloc_context3(decoder));
  if (!codec || avcodec_parameters_to_context(codec.get(), stream.codecpar) < 0)
    throw CodecError("cannot set up the decoder");
  codec->thread_count = 1;  // one picture wanted: threads would only add latency and memory
  if (avcodec_open2(codec.get(), decoder, nullptr) < 0) throw CodecError("cannot open the decoder");

  const double base = av_q2d(stream.time_base);
  const std::int64_t start = stream.start_time == AV_NOPTS_VALUE ? 0 : stream.start_time;
  const std::int64_t target = start + static_cast<std::int64_t>(std::floor(seconds / base + 1e-6));
  // The keyframe at or before the time; a file without an index is read from its start.
  if (av_seek_frame(input.get(), index, target, AVSEEK_FLAG_BACKWARD) < 0) {
    rethrow_read_fault();
    av_seek_frame(input.get(), index, start, AVSEEK_FLAG_BACKWARD | AVSEEK_FLAG_ANY);
  }

  // The picture shown at the time is the last one whose timestamp is not after it.
  FramePtr shown;
  FramePtr frame(av_frame_alloc());
  PacketPtr packet(av_packet_alloc());
  if (!frame || !packet) throw std::bad_alloc();
  bool past = false;
  auto receive = [&] {
    while (!past && avcodec_receive_frame(codec.get(), frame.get()) == 0) {
      const auto pts = frame->best_effort_timestamp;
      if (shown && pts != AV_NOPTS_VALUE && pts > target) {
        past = true;
        break;
      }
      shown = std::move(frame);
      frame.reset(av_frame_alloc());
      if (!frame) throw std::bad_alloc();
      if (pts != AV_NOPTS_VALUE && pts >= target) past = true;
    }
  };
  int packets = 0;
  while (!past) {
    const int rc = av_read_frame(input.get(), packet.get());
    if (rc == AVERROR_EOF) break;
    rethrow_read_fault();
    // A file cut short still has its index (written first): its samples end early. That picture is unknown.
    if (rc < 0 || (packet->flags & AV_PKT_FLAG_CORRUPT)) {
      av_packet_unref(packet.get());
      throw CodecError("the recording is damaged or cut short");
    }
    if (packet->stream_index == index) {
      if (++packets > limits.max_packets) {
        av_packet_unref(packet.get());
        throw CodecError("too many pictures between the keyframe and the time");
      }
      avcodec_send_packet(codec.get(), packet.get());  // a damaged packet is skipped like a player would
      receive();
    }
    av_packet_unref(packet.get());
  }
  rethrow_read_fault();
  if (!past) {
    avcodec_send_packet(codec.get(), nullptr);
    receive();
  }
  if (!shown) throw CodecError("no picture could be decoded at that time");
  if (shown->width != stream.codecpar->width || shown->height != stream.codecpar->height)
    throw CodecError("the recording's picture size changed");
  return to_pixels(*shown);
}

}  // namespace vncgate::record
