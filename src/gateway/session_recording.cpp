// SPDX-License-Identifier: Apache-2.0
#include "gateway/session_recording.hpp"

#include <cstdio>
#include <map>

#include "fbs/writer.hpp"
#include "record/recorder.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace vncgate::gateway {

using namespace std::chrono;

// What the strand hands over. One struct for every kind keeps the queue simple; unused fields stay empty.
struct SessionRecording::Event {
  enum Kind { open, data, close, audit } kind;
  int connection = 0;
  rfb::ServerInit init;
  rfb::PixelFormat pinned;
  steady_clock::time_point opened;
  std::vector<std::uint8_t> bytes;
  std::uint32_t ms = 0;
  bool update_end = false, painted = false, message_end = false;
  std::string line;
};

// The open files, on the recording thread only.
struct SessionRecording::Files {
  std::map<int, std::unique_ptr<fbs::Writer>> fbs;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> audit{nullptr, &std::fclose};
};

SessionRecording::SessionRecording(SessionRecordingOptions options)
    : options_(std::move(options)), files_(std::make_unique<Files>()) {}

SessionRecording::~SessionRecording() {
  if (mp4_) mp4_->cancel();
  if (mp4_thread_.joinable()) mp4_thread_.join();
}

void SessionRecording::start() {
  const auto path = options_.dir + "/audit.jsonl";
  files_->audit.reset(std::fopen(path.c_str(), "a"));
  if (!files_->audit) throw IoError("cannot open the audit log " + path);
  if (options_.mp4) {
    // MP4 through the recorder's encoder path, fed with the session's own picture (no second connection).
    record::RecordOptions ro;
    ro.output_dir = options_.dir;
    ro.name_pattern = "video-{n}";
    ro.duration_ms = options_.segment_ms;
    ro.count = 1'000'000;  // a live session ends when it is closed
    ro.encoder = options_.encoder;
    ro.target_label = options_.target_label;
    ro.first_frame_timeout = hours(24 * 365);  // the upstream may take its time
    mp4_ = std::make_unique<record::Recorder>(std::move(ro));
    mp4_thread_ = std::thread([recorder = mp4_.get(), id = options_.session_id] {
      try {
        recorder->run();
      } catch (const std::exception& e) {
        spdlog::error("session {}: MP4 recording stopped: {}", id, e.what());
      }
    });
  }
  // Detached, holding this object: it finalises and ends by itself after finish(), whoever drops the last
  // reference meanwhile.
  thread_ = std::thread([self = shared_from_this()] { self->run(); });
  thread_.detach();
}

void SessionRecording::post(Event event) {
  {
    std::lock_guard lock(mutex_);
    if (finishing_) return;
    queue_.push_back(std::move(event));
  }
  wake_.notify_one();
}

void SessionRecording::record_connection(int number, rfb::ClientConnection& conn,
                                         std::function<void(std::size_t)> also) {
  Event open{Event::open};
  open.connection = number;
  open.init = conn.server_init();
  open.pinned = conn.converter().format();
  open.opened = steady_clock::now();
  post(open);
  // The tap runs after each parsed unit: a changed update count means this unit ended an update, and a unit
  // outside an update is a whole message (fbs::Writer::tap_for, across a thread).
  conn.set_tap([self = shared_from_this(), number, &conn, opened = open.opened, updates = conn.updates_completed(),
                also = std::move(also)](std::span<const std::uint8_t> unit) mutable {
    if (also) also(unit.size());
    Event e{Event::data};
    e.connection = number;
    e.bytes.assign(unit.begin(), unit.end());
    e.ms = static_cast<std::uint32_t>(duration_cast<milliseconds>(steady_clock::now() - opened).count());
    if (conn.updates_completed() != updates) {
      updates = conn.updates_completed();
      e.update_end = true;
      e.painted = conn.frame_complete();
    } else if (!conn.in_update()) {
      e.message_end = true;
    }
    self->post(std::move(e));
  });
}

void SessionRecording::connection_closed(int number) {
  Event e{Event::close};
  e.connection = number;
  post(std::move(e));
}

void SessionRecording::frame(const framebuffer::PixelBuffer& picture) {
  if (mp4_) mp4_->slot().publish(picture, mp4_->clock().start_or_now());
}

void SessionRecording::audit(std::string json_line) {
  Event e{Event::audit};
  e.line = std::move(json_line);
  post(std::move(e));
}

void SessionRecording::finish(std::function<void()> done) {
  {
    std::lock_guard lock(mutex_);
    if (finishing_) return;
    finishing_ = true;
    done_ = std::move(done);
  }
  wake_.notify_one();
}

void SessionRecording::run() {
  auto& files = *files_;
  auto apply = [&](Event& e) {
    try {
      switch (e.kind) {
        case Event::open: {
          std::string path = options_.dir + "/recording";
          if (e.connection > 1) path += "-" + std::to_string(e.connection);
          path += ".fbs";
          auto writer = std::make_unique<fbs::Writer>(path, e.init, e.pinned);
          writer->set_clock([opened = e.opened] {
            return static_cast<std::uint32_t>(duration_cast<milliseconds>(steady_clock::now() - opened).count());
          });
          files.fbs[e.connection] = std::move(writer);
          break;
        }
        case Event::data:
          if (auto it = files.fbs.find(e.connection); it != files.fbs.end()) {
            it->second->append(e.bytes, e.ms);
            if (e.update_end)
              it->second->update_boundary(e.ms, e.painted);
            else if (e.message_end)
              it->second->message_boundary();
          }
          break;
        case Event::close:
          if (auto it = files.fbs.find(e.connection); it != files.fbs.end()) {
            it->second->close();
            files.fbs.erase(it);
          }
          break;
        case Event::audit:
          std::fputs(e.line.c_str(), files.audit.get());
          std::fputc('\n', files.audit.get());
          std::fflush(files.audit.get());
          break;
      }
    } catch (const Error& ex) {
      spdlog::error("session {}: recording of connection {} off: {}", options_.session_id, e.connection, ex.what());
      files.fbs.erase(e.connection);
    }
  };
  std::unique_lock lock(mutex_);
  for (;;) {
    // A still stream gets its time marks from tick(): a killed service keeps the session's length up to there.
    wake_.wait_for(lock, milliseconds(250), [&] { return finishing_ || !queue_.empty(); });
    auto batch = std::move(queue_);
    queue_.clear();
    const bool last = finishing_;
    lock.unlock();
    for (auto& e : batch) apply(e);
    for (auto& [n, writer] : files.fbs) {
      try {
        writer->tick();
      } catch (const Error& ex) {
        spdlog::error("session {}: FBS upkeep: {}", options_.session_id, ex.what());
      }
    }
    if (last) break;
    lock.lock();
  }
  for (auto& [n, writer] : files.fbs) {
    try {
      writer->close();
    } catch (const Error& ex) {
      spdlog::error("session {}: closing its FBS: {}", options_.session_id, ex.what());
    }
  }
  files.fbs.clear();
  files.audit.reset();
  if (mp4_) mp4_->cancel();
  if (mp4_thread_.joinable()) mp4_thread_.join();  // the open segment is finalised
  if (done_) done_();
}

}  // namespace vncgate::gateway
