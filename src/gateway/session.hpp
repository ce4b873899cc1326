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
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "framebuffer/pixel_buffer.hpp"
#include "io/byte_stream.hpp"
#include "providers/provider.hpp"
#include "record/encoder_settings.hpp"
#include "rfb/async_server.hpp"
#include "rfb/client_connection.hpp"
#include "rfb/upstream_link.hpp"

namespace vncgate::gateway {

class SessionRecording;
class LiveText;
struct TextWaiter;

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
// Shared by every session of a manager: what the function captures (a service's whole target table) exists once,
// not once per session.
using SharedAcquireFn = std::shared_ptr<const AcquireFn>;

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
  int connect_attempts = 0;  // before the console first answered: give up after this many (0 = never)
};

std::int64_t unix_now_ms();

// One live console: an rfb::UpstreamLink to the console (reconnected with backoff when it drops, the picture
// kept across), an rfb::AsyncServer fanning the picture out to any number of viewers (one encoding per change
// for viewers with the same plan; view-only viewers' input dropped), an optional SessionRecording (FBS, MP4 and
// the input audit log, on its own thread), and idle hibernation. All of it runs on the session's strand;
// start(), attach(), close() and info() may be called from any thread. Create it with std::make_shared: its
// link, server and timers hold it while they run.
class Session : public std::enable_shared_from_this<Session>,
                private rfb::LinkListener,
                private rfb::PictureSource,
                private rfb::ViewerEvents {
 public:
  Session(asio::any_io_executor executor, std::string id, SharedAcquireFn acquire, SessionOptions options);
  ~Session() override;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const std::string& id() const { return id_; }
  // Starts connecting the upstream (and the recording). Throws IoError when the recording cannot start.
  void start();
  // Adds a viewer; it is greeted (RFB handshake) once the first upstream picture is there.
  void attach(std::unique_ptr<io::ByteStream> viewer, bool view_only);
  // Closes viewers and upstream; `done` (optional) runs once the recording is finalised (on the recording's
  // thread), or at once on the strand when there is none.
  void close(std::function<void()> done = {});
  SessionInfo info() const;
  // Live text (docs/text.md): `waiter` gets the screen as text, read on `reader` (the blocking pool, never the
  // strand) from the current picture and then each new one until it is settled: at once for an empty needle,
  // else once the needle is on screen. A closed session settles it as closed.
  void watch_text(std::shared_ptr<TextWaiter> waiter, asio::any_io_executor reader);

 private:
  asio::awaitable<rfb::Console> acquire_console();
  void do_close();
  void set_state(SessionState state);
  void touch();
  void want_updates();
  void forward_copies();  // the upstream update's rectangles, with copies, to the viewers
  void active();          // something changed or was sent: (re)arms the hibernation check
  void arm_idle(std::chrono::steady_clock::time_point at);
  void hibernate();

  // rfb::LinkListener: upstream events, on the strand.
  void link_connecting(int number, const std::shared_ptr<rfb::AsyncClient>& client) override;
  void link_closed(int number, bool was_up, const std::string& reason) override;
  void link_failed(std::exception_ptr why) override;
  void on_connected(const rfb::ServerInit& init) override;
  void on_resize(int width, int height) override;
  void on_update(const framebuffer::Rect& damage) override;
  void on_bell() override;
  void on_server_cut_text(const std::string& text) override;

  // rfb::PictureSource: what viewers are served from.
  const framebuffer::PixelBuffer& picture() override;
  bool can_serve() const override;
  void served() override { active(); }

  // rfb::ViewerEvents: interactive viewers' input, forwarded upstream (and to the audit log).
  void key(int viewer, std::uint32_t keysym, std::uint32_t keycode, bool down, bool qemu) override;
  void pointer(int viewer, int x, int y, std::uint8_t buttons, bool buttons_changed) override;
  void cut_text(int viewer, const std::string& latin1) override;
  void desktop_size(int viewer, int width, int height) override;
  void viewer_left(int viewer) override;
  rfb::ClientConnection* upstream_ready();  // the live upstream connection when it can take input

  asio::strand<asio::any_io_executor> strand_;
  std::string id_;
  SharedAcquireFn acquire_;
  SessionOptions options_;
  std::shared_ptr<rfb::UpstreamLink> link_;
  std::shared_ptr<rfb::AsyncServer> server_;
  std::shared_ptr<SessionRecording> recording_;
  std::shared_ptr<LiveText> live_text_;  // created by the first watch_text()
  int width_ = 0, height_ = 0;           // of the picture; 0x0 until the first upstream connection
  bool have_picture_ = false;            // the upstream painted every pixel once: viewers may be greeted
  // The current upstream update's rectangles in order (copies as such), told to viewers once it is complete.
  struct UpstreamRect {
    framebuffer::Rect area;
    bool copy;
    int src_x, src_y;
  };
  std::vector<UpstreamRect> update_rects_;
  bool update_rects_overflow_ = false;
  asio::steady_timer idle_timer_;
  bool idle_armed_ = false;
  std::chrono::steady_clock::time_point last_active_;
  bool closed_ = false;
  std::vector<std::function<void()>> on_closed_;

  mutable std::mutex info_mutex_;  // guards info_ and the setting of server_ (start) except the atomics below
  SessionInfo info_;
  std::atomic<std::uint64_t> bytes_from_upstream_{0}, frames_{0};
  std::atomic<bool> hibernating_{false};
};

}  // namespace vncgate::gateway
