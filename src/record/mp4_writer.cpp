// SPDX-License-Identifier: Apache-2.0
#include "record/mp4_writer.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
}

#include <libyuv/convert_from_argb.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "record/av_ptr.hpp"
#include "record/mp4_output.hpp"
#include "record/skip_frames.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace vncgate::record {

namespace {

void check(int rc, const std::string& what) { check_av(rc, what); }

constexpr AVRational kTimeBase{1, 1000};  // milliseconds: frames come when the screen changes (variable rate)

// One skip frame per distinct stream (settings and size) in the process, made once under a lock: recordings
// that fall asleep together do not each build (and hold) two throw-away encoders at the same time.
std::optional<SkipFrames> skip_frames_for(const std::string& key,
                                          const std::function<std::optional<SkipFrames>()>& make) {
  static std::mutex mutex;
  static std::map<std::string, std::optional<SkipFrames>> made;
  std::lock_guard lock(mutex);
  auto it = made.find(key);
  if (it == made.end()) it = made.emplace(key, make()).first;
  return it->second;
}

}  // namespace

// libav* print through av_log; keep their chatter (x264's banner and statistics) out of our output.
void quiet_libav() {
  static const bool once = [] {
    av_log_set_level(AV_LOG_ERROR);
    return true;
  }();
  (void)once;
}

struct Mp4Writer::Impl {
  std::string path;
  EncoderSettings settings;
  int width, height;
  std::int64_t start_ms;
  std::int64_t last_ms;
  std::int64_t frames = 0;
  AVFormatContext* format = nullptr;
  AVStream* stream = nullptr;
  std::unique_ptr<AVCodecContext, CodecContextDeleter> codec;
  std::unique_ptr<AVFrame, FrameDeleter> frame;
  std::unique_ptr<AVPacket, PacketDeleter> packet{av_packet_alloc()};
  // Held back until the next packet's timestamp gives it its duration: MP4 samples carry durations, and the
  // last one must end exactly at the segment boundary.
  std::unique_ptr<AVPacket, PacketDeleter> pending{av_packet_alloc()};
  bool has_pending = false;
  SwsContext* scaler = nullptr;
  int scaler_src_w = 0, scaler_src_h = 0;
  bool finished = false;
  bool global_header = false;
  // Hibernation (EncoderSettings::hibernate_after_s): while `asleep` there is no encoder and no picture, and
  // repeats are skip frames numbered on from the encoder's last frame.
  bool asleep = false;
  bool skip_tried = false;
  std::optional<SkipFrames> skip;
  int next_frame_num = 0;
  std::int64_t last_change_ms = 0;
  // Awake, repeats after the first kRefiningRepeats are skip frames too when the stream has one reference
  // picture (SkipFrames::single_reference): each shows exactly what x264 predicts from next, and x264, which
  // never sees them, has its later frames renumbered by `frame_num_shift`. x264 refines a new picture over its
  // first repeats, so those stay its own.
  static constexpr int kRefiningRepeats = 2;
  int repeats_since_change = 0;
  int frame_num_shift = 0;
  std::int64_t skipped = 0;

  Impl(std::string p, const EncoderSettings& s, int w, int h, std::int64_t start)
      : path(std::move(p)), settings(s), width(w), height(h), start_ms(start), last_ms(start - 1) {}

  ~Impl() {
    sws_freeContext(scaler);
    if (format) {
      if (format->pb) avio_closep(&format->pb);
      avformat_free_context(format);
    }
  }

  bool full_chroma() const { return settings.chroma == Chroma::yuv444; }

  AVPixelFormat pixel_format() const {
    if (settings.lossless) return AV_PIX_FMT_BGR0;
    return full_chroma() ? AV_PIX_FMT_YUV444P : AV_PIX_FMT_YUV420P;
  }

  // An open x264 encoder with the settings; the same settings give the same SPS/PPS every time.
  std::unique_ptr<AVCodecContext, CodecContextDeleter> make_encoder() const {
    const char* encoder_name = settings.lossless ? "libx264rgb" : "libx264";
    const AVCodec* encoder = avcodec_find_encoder_by_name(encoder_name);
    if (!encoder)
      throw CodecError(std::string("FFmpeg has no ") + encoder_name + " encoder (install libavcodec with x264)");
    std::unique_ptr<AVCodecContext, CodecContextDeleter> codec(avcodec_alloc_context3(encoder));
    codec->width = width;
    codec->height = height;
    codec->pix_fmt = pixel_format();
    codec->time_base = kTimeBase;
    codec->framerate = {static_cast<int>(settings.fps * 1000), 1000};
    codec->gop_size = std::max(1, static_cast<int>(settings.fps * settings.keyframe_interval_s));
    codec->max_b_frames = 0;
    if (!settings.lossless) {
      codec->color_range = AVCOL_RANGE_MPEG;
      codec->colorspace = AVCOL_SPC_SMPTE170M;
      codec->color_primaries = AVCOL_PRI_SMPTE170M;
      codec->color_trc = AVCOL_TRC_SMPTE170M;
    }
    codec->thread_count = 1;  // one recording = one core at most; many recordings share the machine
    av_opt_set(codec->priv_data, "preset", settings.preset.c_str(), 0);
    // zerolatency: no lookahead or frame delay, so each frame is muxed (and crash-safe) as soon as it exists.
    const std::string tune = settings.tune.empty() ? "zerolatency" : settings.tune + ",zerolatency";
    av_opt_set(codec->priv_data, "tune", tune.c_str(), 0);
    if (settings.lossless)
      av_opt_set(codec->priv_data, "qp", "0", 0);
    else if (settings.qp >= 0)
      av_opt_set_int(codec->priv_data, "qp", settings.qp, 0);
    else
      av_opt_set_double(codec->priv_data, "crf", settings.crf, 0);
    if (!settings.x264_params.empty()) av_opt_set(codec->priv_data, "x264-params", settings.x264_params.c_str(), 0);
    if (global_header) codec->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    AVDictionary* codec_options = nullptr;
    const int rc = avcodec_open2(codec.get(), encoder, &codec_options);
    av_dict_free(&codec_options);
    check(rc, std::string("cannot open ") + encoder_name + " (preset '" + settings.preset + "', tune '" + tune + "')");
    return codec;
  }

  // A picture buffer of the output size and format.
  std::unique_ptr<AVFrame, FrameDeleter> make_frame() const {
    std::unique_ptr<AVFrame, FrameDeleter> f(av_frame_alloc());
    f->format = pixel_format();
    f->width = width;
    f->height = height;
    check(av_frame_get_buffer(f.get(), 0), "frame buffer");
    return f;
  }

  void open() {
    check(avformat_alloc_output_context2(&format, nullptr, "mp4", path.c_str()), "cannot set up MP4 for " + path);
    global_header = (format->oformat->flags & AVFMT_GLOBALHEADER) != 0;
    codec = make_encoder();

    stream = avformat_new_stream(format, nullptr);
    stream->time_base = kTimeBase;
    check(avcodec_parameters_from_context(stream->codecpar, codec.get()), "codec parameters");
    start_fragmented_mp4(format, path);
    frame = make_frame();
  }

  // Where a source of sw x sh lands in the output: as large as fits, aspect kept, centred, even-aligned.
  void fit(int sw, int sh, int& x, int& y, int& w, int& h) const {
    if (sw == width && sh == height) {
      x = y = 0, w = width, h = height;
      return;
    }
    const double s = std::min(static_cast<double>(width) / sw, static_cast<double>(height) / sh);
    w = std::max(2, static_cast<int>(sw * s) & ~1);
    h = std::max(2, static_cast<int>(sh * s) & ~1);
    x = ((width - w) / 2) & ~1;
    y = ((height - h) / 2) & ~1;
  }

  // Black.
  void clear_frame(AVFrame& f) const {
    if (settings.lossless) {
      for (int y = 0; y < height; ++y) std::memset(f.data[0] + y * f.linesize[0], 0, width * 4);
      return;
    }
    const int chroma_h = full_chroma() ? height : height / 2;
    const int chroma_w = full_chroma() ? width : width / 2;
    for (int y = 0; y < height; ++y) std::memset(f.data[0] + y * f.linesize[0], 16, width);
    for (int p = 1; p <= 2; ++p)
      for (int y = 0; y < chroma_h; ++y) std::memset(f.data[p] + y * f.linesize[p], 128, chroma_w);
  }

  void convert(const framebuffer::PixelBuffer& source) {
    check(av_frame_make_writable(frame.get()), "frame not writable");
    const int sw = source.width(), sh = source.height();
    int x, y, w, h;
    fit(sw, sh, x, y, w, h);
    if (w != width || h != height) clear_frame(*frame);
    if (settings.lossless && w == sw && h == sh) {  // exact copy, no scaler in the way
      for (int row = 0; row < sh; ++row)
        std::memcpy(frame->data[0] + (y + row) * frame->linesize[0] + x * 4, source.row(row), sw * 4);
      return;
    }
    if (w == sw && h == sh) {
      // Colour conversion only: libyuv's SIMD BT.601 (limited range, as tagged) takes a fraction of swscale's
      // time. Its "ARGB" is our canonical pixel (bytes B, G, R, X).
      const auto* src = reinterpret_cast<const std::uint8_t*>(source.pixels().data());
      const auto convert = full_chroma() ? libyuv::ARGBToI444 : libyuv::ARGBToI420;
      if (convert(src, sw * 4, frame->data[0], frame->linesize[0], frame->data[1], frame->linesize[1], frame->data[2],
                  frame->linesize[2], sw, sh) != 0)
        throw CodecError("colour conversion failed");
      return;
    }
    if (!scaler || scaler_src_w != sw || scaler_src_h != sh) {
      sws_freeContext(scaler);
      // Scaled (or fitted after a resize): Lanczos keeps text legible.
      const int flags = SWS_LANCZOS | SWS_ACCURATE_RND;
      scaler = sws_getContext(sw, sh, AV_PIX_FMT_BGR0, w, h, pixel_format(), flags, nullptr, nullptr, nullptr);
      if (!scaler) throw CodecError("cannot convert " + std::to_string(sw) + "x" + std::to_string(sh) + " frames");
      scaler_src_w = sw, scaler_src_h = sh;
    }
    const std::uint8_t* src[1] = {reinterpret_cast<const std::uint8_t*>(source.pixels().data())};
    const int src_stride[1] = {sw * 4};
    std::uint8_t* dst[4] = {};
    for (int p = 0; p < 4 && frame->data[p]; ++p) {
      const int cx = (p == 0 || full_chroma() || settings.lossless) ? x : x / 2;
      const int cy = (p == 0 || full_chroma() || settings.lossless) ? y : y / 2;
      const int bytes_per_pixel = settings.lossless ? 4 : 1;
      dst[p] = frame->data[p] + cy * frame->linesize[p] + cx * bytes_per_pixel;
    }
    sws_scale(scaler, src, src_stride, 0, sh, dst, frame->linesize);
  }

  void write_pending(std::int64_t next_pts) {
    if (!has_pending) return;
    pending->duration = std::max<std::int64_t>(1, next_pts - pending->pts);
    pending->stream_index = stream->index;
    av_packet_rescale_ts(pending.get(), kTimeBase, stream->time_base);
    check(av_write_frame(format, pending.get()), "cannot write to " + path);
    has_pending = false;
  }

  void encode(std::int64_t t_ms) {
    if (t_ms <= last_ms) t_ms = last_ms + 1;  // timestamps strictly increase (ms resolution)
    // The encoder may keep a reference to the frame it was given; a fresh buffer is only made when needed.
    check(av_frame_make_writable(frame.get()), "frame not writable");
    frame->pts = t_ms - start_ms;
    frame->pict_type = frames == 0 ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
    check(avcodec_send_frame(codec.get(), frame.get()), "encoding failed");
    drain();
    last_ms = t_ms;
    ++frames;
  }

  void drain() {
    for (;;) {
      const int rc = avcodec_receive_packet(codec.get(), packet.get());
      if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return;
      check(rc, "encoding failed");
      if (packet->flags & AV_PKT_FLAG_KEY)
        frame_num_shift = 0;  // an IDR starts the numbering again, for x264 and decoders alike
      else if (frame_num_shift != 0)
        renumber(*packet);
      hold(*packet);
    }
  }

  // An x264 packet after skip frames it did not see: its frame_num moves on by their number.
  void renumber(AVPacket& p) {
    const auto bytes = skip->renumbered({p.data, static_cast<std::size_t>(p.size)}, frame_num_shift);
    std::unique_ptr<AVPacket, PacketDeleter> moved{av_packet_alloc()};
    check(av_new_packet(moved.get(), static_cast<int>(bytes.size())), "packet");
    std::memcpy(moved->data, bytes.data(), bytes.size());
    check(av_packet_copy_props(moved.get(), &p), "packet");
    av_packet_unref(&p);
    av_packet_move_ref(&p, moved.get());
  }

  // `p` is the newest packet: the one held before it gets its duration and is written.
  void hold(AVPacket& p) {
    write_pending(p.pts);
    av_packet_unref(pending.get());
    av_packet_move_ref(pending.get(), &p);
    has_pending = true;
  }

  // The P frame of skipped blocks that an encoder with these settings makes of a second, identical black
  // picture (exactly reconstructed: nothing to code), checked by decoding it after a textured keyframe of
  // another encoder with the same settings (same SPS/PPS): x264 may code some blocks of a flat picture
  // otherwise (intra, as in lossless mode), and such a frame would paint black over a real screen. Nullopt when
  // the check fails.
  std::optional<SkipFrames> make_skip_frames() const {
    auto black = make_frame();
    clear_frame(*black);
    const auto blacks = encode_alone({black.get(), black.get()});
    auto textured = make_frame();
    texture(*textured);
    const auto keyframe = encode_alone({textured.get()});
    // SPS/PPS are in the extradata, else in the keyframe.
    auto headers = blacks.headers;
    headers.insert(headers.end(), blacks.packets[0].begin(), blacks.packets[0].end());
    auto skip = SkipFrames::make(headers, blacks.packets[1]);
    if (!skip || !shows_reference(blacks.headers, keyframe.packets[0], skip->packet(1))) return std::nullopt;
    return skip;
  }

  struct Encoded {
    std::vector<std::uint8_t> headers;  // extradata
    std::vector<std::vector<std::uint8_t>> packets;
  };
  // `pictures` through a fresh encoder, the first as a keyframe.
  Encoded encode_alone(std::initializer_list<AVFrame*> pictures) const {
    auto encoder = make_encoder();
    std::unique_ptr<AVPacket, PacketDeleter> p{av_packet_alloc()};
    Encoded out;
    out.headers.assign(encoder->extradata, encoder->extradata + encoder->extradata_size);
    std::int64_t pts = 0;
    for (auto* picture : pictures) {
      picture->pts = pts;
      picture->pict_type = pts++ == 0 ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
      check(avcodec_send_frame(encoder.get(), picture), "encoding failed");
      auto& packet = out.packets.emplace_back();
      while (avcodec_receive_packet(encoder.get(), p.get()) == 0) {
        packet.insert(packet.end(), p->data, p->data + p->size);
        av_packet_unref(p.get());
      }
    }
    return out;
  }

  // Deterministic detail in every plane, so that a block not copied from its reference shows.
  void texture(AVFrame& f) const {
    const int planes = settings.lossless ? 1 : 3;
    const int bytes = settings.lossless ? 4 : 1;
    for (int p = 0; p < planes; ++p) {
      const int h = p == 0 || full_chroma() ? height : height / 2;
      const int w = (p == 0 || full_chroma() ? width : width / 2) * bytes;
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
          f.data[p][y * f.linesize[p] + x] = static_cast<std::uint8_t>(x * 7 + y * 13 + p * 50);
    }
  }

  // Decodes `keyframe` then `next` (FFmpeg's H.264 decoder): true when `next` shows the keyframe unchanged.
  static bool shows_reference(const std::vector<std::uint8_t>& headers, const std::vector<std::uint8_t>& keyframe,
                              const std::vector<std::uint8_t>& next) {
    const AVCodec* h264 = avcodec_find_decoder(AV_CODEC_ID_H264);
    if (!h264) return false;
    std::unique_ptr<AVCodecContext, CodecContextDeleter> decoder(avcodec_alloc_context3(h264));
    if (!headers.empty()) {
      decoder->extradata = static_cast<std::uint8_t*>(av_mallocz(headers.size() + AV_INPUT_BUFFER_PADDING_SIZE));
      std::memcpy(decoder->extradata, headers.data(), headers.size());
      decoder->extradata_size = static_cast<int>(headers.size());
    }
    decoder->thread_count = 1;
    if (avcodec_open2(decoder.get(), h264, nullptr) < 0) return false;
    std::unique_ptr<AVPacket, PacketDeleter> p{av_packet_alloc()};
    std::vector<std::unique_ptr<AVFrame, FrameDeleter>> shown;
    auto receive = [&] {
      for (;;) {
        std::unique_ptr<AVFrame, FrameDeleter> f(av_frame_alloc());
        if (avcodec_receive_frame(decoder.get(), f.get()) < 0) return;
        shown.push_back(std::move(f));
      }
    };
    for (const auto* bytes : {&keyframe, &next}) {
      if (av_new_packet(p.get(), static_cast<int>(bytes->size())) < 0) return false;
      std::memcpy(p->data, bytes->data(), bytes->size());
      if (avcodec_send_packet(decoder.get(), p.get()) < 0) return false;
      av_packet_unref(p.get());
      receive();
    }
    avcodec_send_packet(decoder.get(), nullptr);
    receive();
    if (shown.size() != 2 || shown[0]->format != shown[1]->format) return false;
    const auto& a = *shown[0];
    const auto& b = *shown[1];
    for (int plane = 0; plane < AV_NUM_DATA_POINTERS && a.data[plane]; ++plane) {
      const int rows = plane == 0 || a.format != AV_PIX_FMT_YUV420P ? a.height : (a.height + 1) / 2;
      const int row_bytes = av_image_get_linesize(static_cast<AVPixelFormat>(a.format), a.width, plane);
      if (row_bytes <= 0) return false;
      for (int y = 0; y < rows; ++y)
        if (std::memcmp(a.data[plane] + y * a.linesize[plane], b.data[plane] + y * b.linesize[plane], row_bytes) != 0)
          return false;
    }
    return true;
  }

  // After a repeat: the encoder goes when the screen has been still long enough. x264 refines a new picture
  // over its first repeats; on real consoles it never quite stops (a few hundred bytes a repeat), so waiting
  // for a repeat of skipped blocks only would keep most encoders open.
  void maybe_sleep(std::int64_t t_ms) {
    if (asleep || settings.hibernate_after_s <= 0 || !has_pending ||
        t_ms - last_change_ms < std::int64_t{settings.hibernate_after_s} * 1000)
      return;
    if (!load_skip()) return;
    const auto n = skip->frame_num({pending->data, static_cast<std::size_t>(pending->size)});
    if (!n) return;
    next_frame_num = *n + 1;
    codec.reset();
    frame.reset();
    asleep = true;
  }

  bool load_skip() {
    if (!skip_tried) {
      skip_tried = true;
      const auto& e = settings;
      const auto key = fmt::format("{}x{} {} {} {} {} {} {} {} {} {}", width, height, e.preset, e.tune, e.crf, e.qp,
                                   chroma_name(e.chroma), e.lossless, e.fps, e.keyframe_interval_s, e.x264_params);
      skip = skip_frames_for(key, [this] { return make_skip_frames(); });
      if (!skip) spdlog::debug("record: {}: this stream cannot be kept alive with skip frames", path);
    }
    return skip.has_value();
  }

  // A repeat while awake as a skip frame (see kRefiningRepeats); false when it has to be x264's.
  bool repeat_with_skip(std::int64_t t_ms) {
    if (repeats_since_change < kRefiningRepeats || !has_pending || !load_skip() || !skip->single_reference())
      return false;
    const auto n = skip->frame_num({pending->data, static_cast<std::size_t>(pending->size)});
    if (!n) return false;
    next_frame_num = *n + 1;
    write_skip(t_ms);
    frame_num_shift = (frame_num_shift + 1) % skip->max_frame_num();
    return true;
  }

  void repeat_asleep(std::int64_t t_ms) { write_skip(t_ms); }

  void write_skip(std::int64_t t_ms) {
    if (t_ms <= last_ms) t_ms = last_ms + 1;
    const auto bytes = skip->packet(next_frame_num++);
    check(av_new_packet(packet.get(), static_cast<int>(bytes.size())), "packet");
    std::memcpy(packet->data, bytes.data(), bytes.size());
    packet->pts = packet->dts = t_ms - start_ms;
    hold(*packet);
    last_ms = t_ms;
    ++frames;
    ++skipped;
  }

  void wake() {
    codec = make_encoder();  // its first frame is an IDR
    frame = make_frame();
    asleep = false;
  }
};

Mp4Writer::Mp4Writer(const std::string& path, const EncoderSettings& settings, int width, int height,
                     std::int64_t start_ms)
    : impl_(std::make_unique<Impl>(path, settings, width, height, start_ms)) {
  quiet_libav();
  if (width < 16 || height < 16 || width % 2 || height % 2)
    throw CodecError("output size " + std::to_string(width) + "x" + std::to_string(height) +
                     " is not even or too small");
  impl_->open();
}

Mp4Writer::~Mp4Writer() {
  if (impl_ && !impl_->finished && impl_->format) {
    try {
      finish(impl_->last_ms + 1);
    } catch (...) {  // the fragments already on disk stay playable
    }
  }
}

void Mp4Writer::write(const framebuffer::PixelBuffer& source, std::int64_t t_ms) {
  auto& d = *impl_;
  if (d.finished) throw CodecError("segment " + d.path + " is already finished");
  if (d.asleep) d.wake();
  d.repeats_since_change = 0;
  d.convert(source);
  d.encode(t_ms);
  d.last_change_ms = d.last_ms;
}

void Mp4Writer::repeat(std::int64_t t_ms) {
  auto& d = *impl_;
  if (d.finished) throw CodecError("segment " + d.path + " is already finished");
  if (d.frames == 0) throw CodecError("nothing to repeat in " + d.path);
  if (d.asleep) return d.repeat_asleep(t_ms);
  if (!d.repeat_with_skip(t_ms)) d.encode(t_ms);
  ++d.repeats_since_change;
  d.maybe_sleep(d.last_ms);
}

SegmentStats Mp4Writer::finish(std::int64_t end_ms) {
  auto& d = *impl_;
  if (d.finished) throw CodecError("segment " + d.path + " is already finished");
  d.finished = true;
  if (!d.asleep) {
    check(avcodec_send_frame(d.codec.get(), nullptr), "flushing the encoder");
    d.drain();
  }
  d.write_pending(std::max(end_ms, d.last_ms + 1) - d.start_ms);
  check(av_write_trailer(d.format), "cannot finish " + d.path);
  SegmentStats stats;
  stats.frames = d.frames;
  stats.bytes = avio_size(d.format->pb);
  stats.duration_ms = std::max(end_ms, d.last_ms + 1) - d.start_ms;
  avio_closep(&d.format->pb);
  return stats;
}

std::int64_t Mp4Writer::frames() const { return impl_->frames; }
bool Mp4Writer::hibernating() const { return impl_->asleep; }
std::int64_t Mp4Writer::skip_frames() const { return impl_->skipped; }
std::int64_t Mp4Writer::bytes() const { return impl_->format && impl_->format->pb ? avio_tell(impl_->format->pb) : 0; }

}  // namespace vncgate::record
