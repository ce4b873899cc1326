// SPDX-License-Identifier: Apache-2.0
#include "record/mp4_join.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

#include <algorithm>
#include <cstring>
#include <memory>

#include "record/av_ptr.hpp"
#include "record/mp4_output.hpp"
#include "util/error.hpp"

namespace vncgate::record {

namespace {

struct InputCloser {
  void operator()(AVFormatContext* c) const { avformat_close_input(&c); }
};
using Input = std::unique_ptr<AVFormatContext, InputCloser>;

struct OutputCloser {
  void operator()(AVFormatContext* c) const {
    if (c->pb) avio_closep(&c->pb);
    avformat_free_context(c);
  }
};

Input open_part(const std::string& path) {
  AVFormatContext* raw = nullptr;
  check_av(avformat_open_input(&raw, path.c_str(), nullptr, nullptr), "cannot read " + path);
  Input input(raw);
  if (input->nb_streams != 1 || input->streams[0]->codecpar->codec_type != AVMEDIA_TYPE_VIDEO)
    throw CodecError(path + " is not a one-stream video");
  return input;
}

bool same_stream(const AVCodecParameters& a, const AVCodecParameters& b) {
  return a.codec_id == b.codec_id && a.width == b.width && a.height == b.height && a.format == b.format &&
         a.extradata_size == b.extradata_size &&
         (a.extradata_size == 0 || std::memcmp(a.extradata, b.extradata, a.extradata_size) == 0);
}

}  // namespace

bool join_mp4(const std::vector<JoinPart>& parts, const std::string& output) {
  if (parts.empty()) throw CodecError("nothing to join into " + output);
  std::vector<Input> inputs;
  for (const auto& part : parts) {
    inputs.push_back(open_part(part.path));
    if (!same_stream(*inputs.front()->streams[0]->codecpar, *inputs.back()->streams[0]->codecpar)) return false;
  }

  AVFormatContext* raw = nullptr;
  check_av(avformat_alloc_output_context2(&raw, nullptr, "mp4", output.c_str()), "cannot set up MP4 for " + output);
  std::unique_ptr<AVFormatContext, OutputCloser> out(raw);
  AVStream* stream = avformat_new_stream(out.get(), nullptr);
  if (!stream) throw CodecError("cannot set up MP4 for " + output);
  const AVStream* first = inputs.front()->streams[0];
  check_av(avcodec_parameters_copy(stream->codecpar, first->codecpar), "codec parameters");
  stream->codecpar->codec_tag = 0;  // the muxer picks it
  stream->time_base = first->time_base;
  start_fragmented_mp4(out.get(), output);

  // A packet is written once the next one (or the part's end) gives it its duration.
  PacketPtr packet(av_packet_alloc()), pending(av_packet_alloc());
  bool has_pending = false;
  auto write_pending = [&](std::int64_t until, AVRational tb) {
    if (!has_pending) return;
    pending->duration = std::max<std::int64_t>(1, until - pending->pts);
    av_packet_rescale_ts(pending.get(), tb, stream->time_base);
    const int rc = av_write_frame(out.get(), pending.get());
    av_packet_unref(pending.get());
    has_pending = false;
    check_av(rc, "cannot write to " + output);
  };
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const AVRational tb = inputs[i]->streams[0]->time_base;
    const std::int64_t shift = av_rescale_q(parts[i].offset_ms, AVRational{1, 1000}, tb);
    for (;;) {
      const int rc = av_read_frame(inputs[i].get(), packet.get());
      if (rc == AVERROR_EOF) break;
      check_av(rc, "cannot read " + parts[i].path);
      if (packet->pts == AV_NOPTS_VALUE) throw CodecError(parts[i].path + " has a frame without a timestamp");
      packet->pts += shift;
      packet->dts = packet->pts;  // no B-frames: decoding order is display order
      packet->stream_index = 0;
      packet->pos = -1;
      write_pending(packet->pts, tb);
      av_packet_move_ref(pending.get(), packet.get());
      has_pending = true;
    }
    write_pending(av_rescale_q(parts[i].offset_ms + parts[i].duration_ms, AVRational{1, 1000}, tb), tb);
  }
  check_av(av_write_trailer(out.get()), "cannot finish " + output);
  return true;
}

}  // namespace vncgate::record
