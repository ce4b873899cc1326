// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <cassert>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "framebuffer/cursor.hpp"
#include "framebuffer/pixel_buffer.hpp"
#include "rfb/encoding.hpp"
#include "rfb/in_buffer.hpp"
#include "rfb/picture_budget.hpp"
#include "rfb/pixel_format.hpp"

namespace vncgate::rfb {

using framebuffer::Rect;

// Largest cursor shape accepted from a server, per side.
inline constexpr int kMaxCursor = 1024;

struct ClientOptions {
  std::string password;  // VNC Authentication; at most 8 bytes are used (RFB truncates)
  std::vector<Encoding> encodings = default_encodings();
  // Format asked of the server with SetPixelFormat; nullopt keeps the server's native format.
  std::optional<PixelFormat> pixel_format = PixelFormat::canonical();
  bool shared = true;
  // Largest framebuffer accepted from the server (ServerInit, DesktopSize); larger is a ProtocolError. 8K UHD.
  long long max_pixels = 7680LL * 4320;
  // Shared by many connections: the picture's memory is reserved here first (none: no budget).
  std::shared_ptr<PictureBudget> picture_budget;
};

struct ServerInit {
  int width = 0;
  int height = 0;
  PixelFormat format;
  std::string name;
  int protocol_minor = 8;  // 3, 7 or 8
  int security_type = 1;
};

// Events from the server, delivered synchronously from ClientConnection::feed().
class ClientListener {
 public:
  virtual ~ClientListener() = default;
  virtual void on_connected(const ServerInit&) {}
  // One FramebufferUpdate completed; `damage` bounds every rectangle it changed.
  virtual void on_update(const Rect& /*damage*/) {}
  virtual void on_resize(int /*width*/, int /*height*/) {}
  virtual void on_cursor() {}
  virtual void on_bell() {}
  virtual void on_server_cut_text(const std::string& /*latin1*/) {}
};

struct EncodingStats {
  std::uint64_t rects = 0;
  std::uint64_t bytes = 0;  // payload bytes on the wire
  std::uint64_t pixels = 0;
};

// The client half of RFB (RFC 6143) without I/O: bytes from the server go in through feed(), bytes for the
// server come out of take_output(). Handles version 3.3/3.7/3.8, security None and VNC Authentication,
// ClientInit/ServerInit, then server messages. Decodes into its own canonical framebuffer.
// Faults throw: ProtocolError (malformed/unknown data), AuthError (refused, reason verbatim).
// Single-threaded: every call from one thread (or strand).
class ClientConnection {
 public:
  explicit ClientConnection(ClientOptions options, ClientListener* listener = nullptr);
  ~ClientConnection();
  ClientConnection(const ClientConnection&) = delete;
  ClientConnection& operator=(const ClientConnection&) = delete;

  // Processes as many complete messages as `bytes` (plus what was buffered) allow. Wakes a hibernating
  // connection when a rectangle has to be decoded (other messages leave it asleep).
  void feed(std::span<const std::uint8_t> bytes);
  // Bytes to write to the server, in order; empties the queue.
  std::vector<std::uint8_t> take_output();
  bool has_output() const { return !out_.empty(); }

  // True once ServerInit is processed.
  bool ready() const;
  const ServerInit& server_init() const { return init_; }

  // Queues a FramebufferUpdateRequest for the whole screen. The client never asks on its own after the
  // first full request: pacing is the consumer's (a 10 fps recorder asks at most 10 times a second).
  void request_update(bool incremental);
  // True between a request and the end of the FramebufferUpdate that answers it.
  bool update_pending() const { return update_requested_; }
  // Inside a FramebufferUpdate: some of its rectangles are applied, others still to come.
  bool in_update() const { return in_update_; }
  std::uint64_t updates_completed() const { return updates_completed_; }
  // True once every pixel has been painted by the server since connect or the last resize (some servers,
  // e.g. TigerVNC, answer the first request with a pseudo-encoding-only update before the pixels).
  bool frame_complete() const { return unpainted_ == 0; }

  void send_key(std::uint32_t keysym, bool down);
  // QEMU extended key event (keysym + XT scancode), only if the server announced support.
  bool send_qemu_key(std::uint32_t keysym, std::uint32_t keycode, bool down);
  void send_pointer(int x, int y, std::uint8_t buttons);
  void send_cut_text(const std::string& latin1);
  // SetDesktopSize (one screen), only once the server has shown ExtendedDesktopSize support.
  bool send_set_desktop_size(int width, int height);
  bool extended_desktop_size() const { return extended_desktop_size_; }
  void send_set_encodings(const std::vector<Encoding>& encodings);

  // Only while awake (asserted): a hibernating connection's picture is compressed.
  const framebuffer::PixelBuffer& framebuffer() const {
    assert(!hibernating());
    return fb_;
  }

  // Idle memory: compacts the framebuffer and frees what is rebuilt on demand (input storage, the gathered
  // payload, decoders' scratch buffers and zlib inflate state, the output queue's capacity). Zlib streams
  // continue exactly (their dictionaries are kept deflated). feed() wakes it as needed; so does wake(),
  // before framebuffer() is read. Called from a listener callback, it takes effect when feed() returns.
  void hibernate();
  void wake();
  bool hibernating() const { return fb_.compacted(); }
  // Heap bytes of the buffers hibernate() shrinks (framebuffer, input, output, payload, paint map).
  std::size_t buffer_bytes() const;

  // FBS checkpoints (docs/fbs.md §7): everything later messages depend on — the ServerInit, the pixel format
  // and colour map in force, the picture (packed), cursor, pointer, LEDs and every zlib stream's window —
  // between two server messages. nullopt elsewhere: before ServerInit, inside an update or a message, while
  // the screen is not completely painted, or with a zlib stream that does not rest on a block boundary.
  std::optional<std::vector<std::uint8_t>> save_checkpoint() const;
  // Makes a connection that has not been fed yet continue from a checkpoint (ready, awake; on_connected is
  // reported). The bytes come from a file: anything malformed or over this connection's limits throws
  // ProtocolError and leaves the connection unfed.
  void restore_checkpoint(std::span<const std::uint8_t> bytes);

  // Hands a picture over across an upstream reconnect. adopt_framebuffer() is for before ServerInit: when
  // ServerInit gives the same size, the picture is kept until painted over (otherwise cleared as before). A
  // compacted picture is adopted as is (the connection then hibernates). frame_complete() still counts only
  // this connection's painting. take_framebuffer() leaves the connection without a picture (0x0): a later
  // rectangle is a ProtocolError, so take it only from a connection that is done.
  void adopt_framebuffer(framebuffer::PixelBuffer picture);
  framebuffer::PixelBuffer take_framebuffer();
  const framebuffer::Cursor& cursor() const { return cursor_; }
  // Last pointer position from PointerPos, or the centre of the screen when unknown.
  std::array<int, 2> pointer() const { return pointer_; }
  bool qemu_extended_keys() const { return qemu_ext_keys_; }
  std::uint32_t led_state() const { return led_state_; }
  const std::map<std::int32_t, EncodingStats>& stats() const { return stats_; }

  // Observes the server's message stream after ServerInit, one parsed unit at a time (a message header or
  // one rectangle), in order and without gaps: the bytes an FBS recording or a capture file needs.
  void set_tap(std::function<void(std::span<const std::uint8_t>)> tap) { tap_ = std::move(tap); }
  // Observes each decoded rectangle's gathered payload (fuzz corpora, per-rectangle statistics).
  using RectObserver = std::function<void(Encoding, const Rect&, std::span<const std::uint8_t> payload)>;
  void set_rect_observer(RectObserver observer) { rect_observer_ = std::move(observer); }
  // The converter for the pixel format in force (SetPixelFormat or the server's, WMVi changes).
  const PixelConverter& converter() const { return conv_; }

 private:
  struct Impl;
  void parse(std::span<const std::uint8_t> bytes);
  bool step();  // parses one unit; false when more bytes are needed
  bool read_version();
  bool read_security_types();
  bool read_security_result();
  bool read_vnc_challenge();
  bool read_failure_reason(const char* when);
  bool read_server_init();
  bool read_message();
  bool read_update();
  bool read_rect();
  bool read_pseudo(const Rect& r, std::int32_t encoding);
  bool read_colour_map();
  bool read_cut_text();
  bool read_fence();
  bool read_qemu_server_message();
  void end_update();
  void write(std::initializer_list<std::uint8_t> bytes);
  void write_u16(unsigned v);
  void write_u32(std::uint32_t v);
  void resize(int width, int height);
  // Checks a size the server announced against max_pixels and reserves its memory in the picture budget
  // (giving back the previous size's); throws ProtocolError when either says no.
  void admit_size(int width, int height, const char* what);
  void mark_painted(const Rect& r);

  enum class State { version, security_types, security_type_33, vnc_challenge, security_result, server_init, normal };

  ClientOptions options_;
  ClientListener* listener_;
  std::unique_ptr<Impl> impl_;
  State state_ = State::version;
  InBuffer in_;
  std::vector<std::uint8_t> out_;
  ServerInit init_;
  PixelConverter conv_;
  framebuffer::PixelBuffer fb_;
  framebuffer::Cursor cursor_;
  std::array<int, 2> pointer_{0, 0};
  bool qemu_ext_keys_ = false;
  bool extended_desktop_size_ = false;  // the server sent an ExtendedDesktopSize rectangle
  std::uint32_t led_state_ = 0;
  bool update_requested_ = false;  // a request went out since the last completed update
  std::uint64_t updates_completed_ = 0;
  // Inside a FramebufferUpdate: rectangles still to read (0xffff with LastRect = until LastRect).
  int rects_left_ = 0;
  bool in_update_ = false;
  Rect damage_;
  std::vector<std::uint8_t> painted_;  // one byte per pixel until the first complete frame, then released
  std::size_t unpainted_ = 1;
  std::map<std::int32_t, EncodingStats> stats_;
  std::function<void(std::span<const std::uint8_t>)> tap_;
  std::uint64_t budget_charged_ = 0;  // bytes reserved in options_.picture_budget
  RectObserver rect_observer_;
  bool feeding_ = false;               // inside feed(): listeners run from here
  bool hibernate_after_feed_ = false;  // hibernate() was called by a listener
};

}  // namespace vncgate::rfb
