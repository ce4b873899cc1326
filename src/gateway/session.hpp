// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "framebuffer/pixel_buffer.hpp"
#include "gateway/shared_encodings.hpp"
#include "io/byte_stream.hpp"
#include "providers/provider.hpp"
#include "record/encoder_settings.hpp"
#include "rfb/client_connection.hpp"
#include "rfb/server_connection.hpp"

namespace vncgate::fbs {
class Writer;
}
namespace vncgate::rfb {
class AsyncClient;
}
namespace vncgate::record {
class Recorder;
}

namespace vncgate::gateway {

namespace asio = boost::asio;

// active = created, upstream connecting for the first time; connected = upstream up; disconnected = upstream
// lost, reconnecting while viewers keep the held frame; closed = ended for good.
enum class SessionState { active, connected, disconnected, closed };
const char* to_string(SessionState state);

struct SessionInfo {
  std::string id, target_label;  // target_label is redacted: no tokens or passwords
  SessionState state = SessionState::active;
  int viewers = 0, view_only_viewers = 0;
  std::int64_t created_unix_ms = 0, last_used_unix_ms = 0;
  std::uint64_t bytes_to_viewers = 0, bytes_from_upstream = 0, frames = 0;
  int width = 0, height = 0;
  bool recording = false;
  int total_connections = 0;               // viewers ever attached
  std::uint64_t dropped_input_events = 0;  // view-only viewers' key/pointer/clipboard/resize events
  int upstream_connections = 0;            // 1 + reconnects
  // Pixel updates encoded, and updates that reused another viewer's encoding of the same change.
  std::uint64_t updates_encoded = 0, updates_shared = 0;
  bool hibernating = false;  // idle: picture compressed, buffers freed
};

// Where the upstream console is; called again for every reconnect (console tickets are one-time).
using AcquireFn = std::function<asio::awaitable<providers::ConsoleEndpoint>(const std::string& target)>;

struct SessionOptions {
  std::string target;           // handed to acquire (may carry secrets: never logged)
  std::string target_label;     // for logs and listings
  rfb::ClientOptions upstream;  // encodings and format for the upstream; its password comes from acquire
  // An upstream on loopback is asked for Raw and CopyRect only: encoding costs the VNC server more than the
  // bytes cost the loopback, and Raw needs no decoding here.
  bool raw_on_loopback = true;
  std::string viewer_password;  // VNC Authentication viewers must pass; empty = security None
  std::string record_dir;       // non-empty: FBS of the upstream stream + input audit log written there
  bool audit_keys = false;      // also log keystrokes in the audit log (privacy: off by default)
  bool mp4 = true;              // with record_dir: also MP4 segments (video-NNN.mp4 + .json) of the picture
  record::EncoderSettings encoder;
  std::int64_t segment_ms = 600000;
  // Nothing changed and nothing sent for this long: the picture is kept compressed and buffers are freed
  // (rfb::ClientConnection::hibernate) until the next change or request. Zero: never.
  std::chrono::milliseconds hibernate_after{10000};
};

std::int64_t unix_now_ms();

// One live console: one upstream RFB connection (reconnected with backoff when it drops), whose picture is
// the session's (handed from one connection to the next, so viewers keep it while the upstream reconnects),
// and any number of viewers, each an rfb::ServerConnection over a ByteStream. An idle session hibernates.
// Fan-out: every upstream update marks damage in each viewer's ServerConnection; a viewer is sent an update
// only when it asked and its previous one is written, so a slow viewer holds at most one update in memory
// and never slows the others or the upstream (newest wins). Viewers owed the same area of the same picture in
// the same format and encoding share one encoding of it. View-only viewers' input is dropped and counted.
// Thread-safety: all work runs on the session's strand; start(), attach(), close() and info() may be called
// from any thread. Create it with std::make_shared (its coroutines keep it alive until they end).
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(asio::any_io_executor executor, std::string id, AcquireFn acquire, SessionOptions options);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const std::string& id() const { return id_; }
  // Starts connecting the upstream.
  void start();
  // Adds a viewer; it is greeted (RFB handshake) once the first upstream picture is there.
  void attach(std::unique_ptr<io::ByteStream> viewer, bool view_only);
  // Closes viewers and upstream and finalises the recording; `done` (optional) runs on the strand after.
  void close(std::function<void()> done = {});
  SessionInfo info() const;

 private:
  struct Viewer;
  struct Upstream;

  asio::awaitable<void> run_upstream();
  asio::awaitable<void> serve_viewer(std::shared_ptr<Viewer> v);
  asio::awaitable<void> write_viewer(std::shared_ptr<Viewer> v);
  void kick(const std::shared_ptr<Viewer>& v);
  void drop(const std::shared_ptr<Viewer>& v, const std::string& why);
  void do_close();
  void start_mp4();
  void set_state(SessionState state);
  void touch();
  void want_updates();
  // The picture viewers are served from, awake (a hibernating one is expanded first).
  const framebuffer::PixelBuffer& picture();
  void active();  // something changed or was sent: (re)arms the hibernation check
  void arm_idle(std::chrono::steady_clock::time_point at);
  void hibernate();

  // Upstream events (from the client's feed(), on the strand).
  void upstream_connected(const rfb::ServerInit& init);
  void upstream_resized(int width, int height);
  void upstream_update(const framebuffer::Rect& damage);
  void upstream_cut_text(const std::string& text);
  void upstream_bell();

  // Viewer input (from a viewer's feed(), on the strand).
  void input_key(Viewer& v, std::uint32_t keysym, std::uint32_t keycode, bool down, bool qemu);
  void input_pointer(Viewer& v, int x, int y, std::uint8_t buttons);
  void input_cut_text(Viewer& v, const std::string& text);
  void input_desktop_size(Viewer& v, int width, int height);
  bool allow_input(Viewer& v);
  void audit(const std::string& json_line);

  asio::strand<asio::any_io_executor> strand_;
  std::string id_;
  AcquireFn acquire_;
  SessionOptions options_;
  std::unique_ptr<Upstream> upstream_;
  std::shared_ptr<rfb::AsyncClient> client_;
  framebuffer::PixelBuffer held_;  // the picture while no upstream connection holds it
  int width_ = 0, height_ = 0;     // of the picture; 0x0 until the first upstream connection
  asio::steady_timer idle_timer_;
  bool idle_armed_ = false;
  std::chrono::steady_clock::time_point last_active_;
  std::map<int, std::shared_ptr<Viewer>> viewers_;
  SharedEncodings encodings_;  // of the current picture, for viewers with equal plans
  // The current upstream update's rectangles in order (copies as such), told to viewers once it is complete.
  struct UpstreamRect {
    framebuffer::Rect area;
    bool copy;
    int src_x, src_y;
  };
  std::vector<UpstreamRect> update_rects_;
  bool update_rects_overflow_ = false;
  int next_viewer_ = 1;
  int connection_ = 0;
  bool closed_ = false;
  bool have_picture_ = false;         // the upstream painted every pixel once: viewers may be greeted
  asio::steady_timer first_picture_;  // viewers wait on it until have_picture_
  asio::steady_timer backoff_timer_;
  std::unique_ptr<fbs::Writer> fbs_;
  std::unique_ptr<record::Recorder> mp4_;  // its encoder loop runs on mp4_thread_
  std::thread mp4_thread_;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> audit_{nullptr, &std::fclose};
  std::vector<std::function<void()>> on_closed_;

  mutable std::mutex info_mutex_;  // guards info_ except the atomics below
  SessionInfo info_;
  std::atomic<std::uint64_t> bytes_to_viewers_{0}, bytes_from_upstream_{0}, frames_{0}, dropped_{0};
  std::atomic<std::uint64_t> updates_encoded_{0}, updates_shared_{0};
  std::atomic<bool> hibernating_{false};
};

}  // namespace vncgate::gateway
