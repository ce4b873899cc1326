// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "framebuffer/pixel_buffer.hpp"
#include "record/encoder_settings.hpp"
#include "rfb/client_connection.hpp"

namespace vncgate::record {
class Recorder;
}

namespace vncgate::gateway {

struct SessionRecordingOptions {
  std::string dir;           // the session's recording directory (exists)
  std::string session_id;    // for log lines
  std::string target_label;  // for sidecars
  bool mp4 = true;           // MP4 segments (video-NNN.mp4 + .json) of the picture besides the FBS
  record::EncoderSettings encoder;
  std::int64_t segment_ms = 600000;
};

// What a recorded live session writes — one FBS file per upstream connection (recording.fbs, recording-2.fbs
// after a reconnect: each restarts the RFB stream and its zlib state), MP4 segments of the picture, the input
// audit log (audit.jsonl) — on a thread of its own: the session's strand only hands over copies and never waits
// for a disk. The MP4 encoder runs on its own thread too (record::Recorder). finish() returns at once; the
// files are finalised on the recording's thread, which then calls `done` there.
// Calls other than finish() come from the session's strand; create it with std::make_shared.
class SessionRecording : public std::enable_shared_from_this<SessionRecording> {
 public:
  explicit SessionRecording(SessionRecordingOptions options);
  ~SessionRecording();
  SessionRecording(const SessionRecording&) = delete;
  SessionRecording& operator=(const SessionRecording&) = delete;

  // Opens the audit log and starts the threads. Throws IoError when the audit log cannot be opened.
  void start();

  // Records upstream connection `number` from its ServerInit on: installs a tap on `conn` that hands every
  // parsed unit of the server stream to the recording thread (with its time and message/update boundaries),
  // also passing each unit to `also` (byte counting).
  void record_connection(int number, rfb::ClientConnection& conn, std::function<void(std::size_t)> also);
  // Connection `number` ended: its file gets its end mark and is closed.
  void connection_closed(int number);
  // A complete picture for the MP4 (copied; the newest wins when the encoder is behind).
  void frame(const framebuffer::PixelBuffer& picture);
  // One line (JSON) for audit.jsonl.
  void audit(std::string json_line);
  // Finalises everything on the recording thread, then calls `done` there. Idempotent; later calls to the
  // others are ignored.
  void finish(std::function<void()> done);

 private:
  struct Event;
  struct Files;
  void run();
  void post(Event event);

  SessionRecordingOptions options_;
  std::unique_ptr<Files> files_;  // touched by the recording thread only (after start())
  std::unique_ptr<record::Recorder> mp4_;
  std::thread mp4_thread_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Event> queue_;
  std::function<void()> done_;
  bool finishing_ = false;
};

}  // namespace vncgate::gateway
