// SPDX-License-Identifier: Apache-2.0
#include "fbs/replay.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <optional>

#include "fbs/checkpoints.hpp"
#include "fbs/format.hpp"
#include "rfb/client_connection.hpp"
#include "util/error.hpp"

namespace vncgate::fbs {
namespace {

// Every encoding the client can decode: the recorded server answered some other client's SetEncodings.
rfb::ClientOptions replay_client_options(const ReplayOptions& options) {
  rfb::ClientOptions o;
  o.pixel_format = options.pixel_format;
  // 001.000 files may hold a recorded VNC Authentication exchange; any password consumes it (the response
  // is discarded), and 001.001 prologues use None.
  o.password = "replay";
  return o;
}

// Collects completed updates while the connection decodes, and hands frames to the callback once inside
// the wanted time range.
struct FrameEmitter : rfb::ClientListener {
  const Replay::FrameCallback& on_frame;
  const rfb::ClientConnection* conn = nullptr;
  framebuffer::Rect damage;
  bool resized = false;
  bool started = false;  // the frame at from_ms went out; later updates are delivered
  std::uint32_t block_ms = 0;
  std::uint64_t frames = 0;
  std::uint64_t changes = 0;                            // updates that painted something
  std::chrono::steady_clock::duration consumer_time{};  // spent in on_frame (an encoder), not decoding
  bool stop = false;

  explicit FrameEmitter(const Replay::FrameCallback& cb) : on_frame(cb) {}

  void on_update(const framebuffer::Rect& d) override {
    if (!d.empty()) ++changes;
    damage = damage.unite(d);
    // An update that painted nothing (a writer's time mark, docs/fbs.md §2) is not a new picture.
    if (started && (!damage.empty() || resized)) emit(block_ms);
  }
  void on_resize(int, int) override { resized = true; }

  void emit(std::uint32_t ms) {
    if (stop) return;
    const auto& fb = conn->framebuffer();
    if (!started || resized) damage = fb.bounds();
    started = true;
    ++frames;
    const auto start = std::chrono::steady_clock::now();
    stop = !on_frame(Frame{fb, damage, ms, resized, conn->frame_complete()});
    consumer_time += std::chrono::steady_clock::now() - start;
    damage = {};
    resized = false;
  }
};

}  // namespace

Replay::Replay(Reader reader, ReplayOptions options) : reader_(std::move(reader)), options_(std::move(options)) {}

bool Replay::resume(rfb::ClientConnection& conn, std::uint32_t from_ms, ReplayResult& result) {
  const auto list = list_checkpoints(options_.checkpoints);
  const auto checkpoint = checkpoint_before(list, from_ms);
  if (!checkpoint) return false;
  // The block that ended at the checkpoint must be this file's (same place, same bytes): a sidecar left
  // beside another recording, or one older than a rewritten file, is not used.
  reader_.seek(checkpoint->previous_offset, checkpoint->ms);
  const auto block = reader_.next();
  auto state = block && block->ms == checkpoint->ms && reader_.status().good_bytes == checkpoint->offset &&
                       crc32_of(block->data) == checkpoint->previous_crc
                   ? load_checkpoint(options_.checkpoints, *checkpoint)
                   : std::nullopt;
  try {
    if (state) {
      conn.restore_checkpoint(*state);
      result.resumed_at_ms = checkpoint->ms;
      result.last_ms = checkpoint->ms;
      spdlog::debug("replay: resumed from the checkpoint at {} ms (seeking to {} ms)", checkpoint->ms, from_ms);
      return true;
    }
  } catch (const Error& e) {
    spdlog::warn("replay: checkpoint at {} ms unusable, decoding from the start: {}", checkpoint->ms, e.what());
  }
  reader_.seek(kMagicSize, 0);
  return false;
}

ReplayResult Replay::run(std::uint32_t from_ms, std::uint32_t to_ms, const FrameCallback& on_frame) {
  FrameEmitter emitter(on_frame);
  rfb::ClientConnection conn(replay_client_options(options_), &emitter);
  emitter.conn = &conn;
  ReplayResult result;
  const bool checkpoints = !options_.checkpoints.empty() && !options_.pixel_format;
  if (checkpoints && from_ms > 0) resume(conn, from_ms, result);
  std::optional<CheckpointAppender> appender;
  if (checkpoints && options_.build_checkpoints) appender.emplace(options_.checkpoints);
  std::uint64_t bytes_since_checkpoint = 0;
  std::uint32_t checkpoint_ms = result.last_ms;
  std::uint64_t changes_at_checkpoint = 0;
  const auto decode_budget = std::chrono::milliseconds(options_.checkpoint_every_decode_ms);
  auto decoding = std::chrono::steady_clock::duration::zero();  // reading and decoding since the last checkpoint
  while (!emitter.stop) {
    const auto block_start = std::chrono::steady_clock::now();
    const auto consumer_before = emitter.consumer_time;
    auto block = reader_.next();
    if (!block) break;
    if (block->ms > to_ms) {
      result.last_ms = to_ms;  // the recording went on past to_ms
      break;
    }
    if (!emitter.started && block->ms > from_ms && conn.ready()) emitter.emit(from_ms);
    if (emitter.stop) break;
    emitter.block_ms = block->ms;
    try {
      conn.feed(block->data);
    } catch (const Error& e) {
      result.decode_error = "RFB stream in block at offset " + std::to_string(block->offset) + " (" +
                            std::to_string(block->ms) + " ms): " + e.what();
      break;
    }
    (void)conn.take_output();  // requests to a server that is not there
    result.last_ms = block->ms;
    bytes_since_checkpoint += block->data.size();
    decoding += std::chrono::steady_clock::now() - block_start - (emitter.consumer_time - consumer_before);
    const bool due =
        bytes_since_checkpoint >= options_.checkpoint_every_bytes ||
        (decode_budget.count() > 0 && decoding >= decode_budget) ||
        (block->ms - checkpoint_ms >= options_.checkpoint_every_ms && emitter.changes > changes_at_checkpoint);
    if (appender && appender->active() && due) {
      const auto next_offset = reader_.status().good_bytes;
      auto state = next_offset > appender->last_offset() ? conn.save_checkpoint() : std::nullopt;
      if (state) {
        appender->append({block->ms, next_offset, block->offset, crc32_of(block->data)}, *state);
        ++result.checkpoints_added;
      }
      // Spacing restarts here when a checkpoint was added, or when the sidecar already has them this far (a
      // rebuild then adds its later ones where they were).
      if (state || next_offset <= appender->last_offset()) {
        bytes_since_checkpoint = 0;
        decoding = {};
        checkpoint_ms = block->ms;
        changes_at_checkpoint = emitter.changes;
      }
    }
  }
  if (reader_.status().reason == StopReason::end_marker)
    result.last_ms = std::max(result.last_ms, std::min(reader_.status().last_ms, to_ms));
  // A start beyond the last block still gets the final picture.
  if (!emitter.started && !emitter.stop && conn.ready()) emitter.emit(std::min(from_ms, result.last_ms));
  result.read = reader_.status();
  result.frames = emitter.frames;
  result.stopped = emitter.stop;
  return result;
}

namespace {

// The one frame a replay from `at_ms` to `at_ms` delivers (the screen then, or the last one when the recording
// ends earlier), at most `max_width` wide, and how the replay went. Starting at at_ms, a checkpoint sidecar in
// the options is used.
struct Shown {
  std::optional<framebuffer::PixelBuffer> picture;
  ReplayResult result;
};
Shown show(Reader reader, std::uint32_t at_ms, ReplayOptions options, int max_width) {
  Shown shown;
  shown.result = Replay(std::move(reader), std::move(options)).run(at_ms, at_ms, [&](const Frame& f) {
    shown.picture = f.pixels.width() > max_width ? framebuffer::shrink_to_width(f.pixels, max_width) : f.pixels;
    return true;
  });
  return shown;
}

}  // namespace

framebuffer::PixelBuffer final_frame(Reader reader, std::uint32_t at_ms, ReplayOptions options) {
  auto shown = show(std::move(reader), at_ms, std::move(options), std::numeric_limits<int>::max());
  if (!shown.picture) {
    const auto& result = shown.result;
    throw ProtocolError("no picture in the recording: " +
                        (result.decode_error.empty() ? result.read.message : result.decode_error));
  }
  return std::move(*shown.picture);
}

std::optional<framebuffer::PixelBuffer> picture_at(Reader reader, std::uint32_t at_ms, ReplayOptions options,
                                                   int max_width, std::uint32_t slack_ms) {
  auto shown = show(std::move(reader), at_ms, std::move(options), max_width);
  if (static_cast<std::uint64_t>(shown.result.last_ms) + slack_ms < at_ms) return std::nullopt;
  return std::move(shown.picture);
}

ReplayOptions using_and_building_checkpoints(const std::string& fbs_path) {
  ReplayOptions options;
  options.checkpoints = checkpoints_path_for(fbs_path);
  options.build_checkpoints = true;
  return options;
}

ReplayResult build_checkpoints(const std::string& fbs_path) {
  return Replay(Reader::open(fbs_path), using_and_building_checkpoints(fbs_path)).run([](const Frame&) {
    return true;
  });
}

}  // namespace vncgate::fbs
