// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "framebuffer/damage.hpp"
#include "framebuffer/pending_copy.hpp"
#include "framebuffer/pixel_buffer.hpp"
#include "io/output.hpp"
#include "rfb/encoders/pixel_encoder.hpp"
#include "rfb/encoders/pixel_writer.hpp"
#include "rfb/encoding.hpp"
#include "rfb/in_buffer.hpp"
#include "rfb/pixel_format.hpp"

namespace vncgate::rfb {

// The update a viewer is owed: the pixel area (may be empty when only a resize or an announcement is due) and
// how it wants pixels. Viewers with equal plans can be sent the same encoded bytes.
struct UpdatePlan {
  framebuffer::Damage pixels;
  PixelParams params;
  bool copy = false;  // CopyRects go first (not part of what viewers can share)
};

struct ServerOptions {
  std::string password;          // empty: security None; else VNC Authentication (first 8 bytes count)
  std::string name = "vncgate";  // desktop name in ServerInit
  // Source of VNC Authentication challenges; OpenSSL's RAND_bytes when empty (tests pin it).
  std::function<std::array<std::uint8_t, 16>()> challenge;
  // From the greeting to ClientInit at most: a viewer that stalls in the handshake is dropped rather than
  // holding a connection open forever (AsyncServer).
  std::chrono::milliseconds handshake_timeout{30000};
};

// Input from the viewer, delivered synchronously from ServerConnection::feed().
class ServerListener {
 public:
  virtual ~ServerListener() = default;
  virtual void on_client_init(bool /*shared*/) {}
  virtual void on_key(std::uint32_t /*keysym*/, bool /*down*/) {}
  // QEMU extended key event: keysym plus XT scancode.
  virtual void on_qemu_key(std::uint32_t /*keysym*/, std::uint32_t /*keycode*/, bool /*down*/) {}
  virtual void on_pointer(int /*x*/, int /*y*/, std::uint8_t /*buttons*/) {}
  virtual void on_cut_text(const std::string& /*latin1*/) {}
  // SetDesktopSize (rfbproto): the viewer asks for a new desktop size; the layout's screens are not kept.
  virtual void on_set_desktop_size(int /*width*/, int /*height*/) {}
};

// The server half of RFB for one viewer, without I/O (the mirror of ClientConnection): bytes from the viewer
// go in through feed(), bytes for it come out of take_output(). Speaks 3.8 and accepts 3.3/3.7 viewers,
// security None or VNC Authentication. It does not own the picture: the owner reports changes with
// framebuffer_changed()/framebuffer_resized() and calls send_update(fb), which answers the viewer's pending
// FramebufferUpdateRequest from `fb` in the viewer's pixel format and the first of Tight, ZRLE, Hextile and
// Raw in the viewer's preference order (Tight follows its JPEG quality and compression level pseudo-encodings). One
// instance per viewer, holding no encoder state: a gateway fans out one framebuffer to many and encodes each
// change once per distinct plan (plan_update(), encode_pixels(), send_update(plan, pixels)). Malformed input throws
// ProtocolError; a failed password is not thrown: the failure is queued for the viewer and closed() turns true.
// Single-threaded.
class ServerConnection {
 public:
  // `width` x `height` is the size announced in ServerInit.
  ServerConnection(ServerOptions options, int width, int height, ServerListener* listener = nullptr);
  ~ServerConnection();
  ServerConnection(const ServerConnection&) = delete;
  ServerConnection& operator=(const ServerConnection&) = delete;

  void feed(std::span<const std::uint8_t> bytes);
  // What to send, as pieces: encoded pixels shared with other viewers (send_update with a shared_ptr) are
  // referenced, not copied.
  io::Output take_output_pieces();
  // The same in one vector (a copy of shared pixels).
  std::vector<std::uint8_t> take_output();
  bool has_output() const { return !out_.empty() || !queued_.empty(); }

  // ClientInit received, ServerInit sent: updates may flow.
  bool ready() const { return state_ == State::normal; }
  // The connection must end once the output is written (authentication failed); reason for the log.
  bool closed() const { return state_ == State::closed; }
  const std::string& close_reason() const { return close_reason_; }

  // The picture changed inside `r` (framebuffer coordinates).
  void framebuffer_changed(const framebuffer::Rect& r);
  void framebuffer_changed(const framebuffer::Damage& d);
  // The picture's `dst` area was copied from (src_x, src_y) (an upstream CopyRect, e.g. a scrolling terminal).
  // The viewer gets CopyRects when it takes them: copies compose while the viewer has not been sent them
  // (a terminal scrolling twice is one copy), dirty pixels in the source move with them, and what cannot be
  // replayed as a copy becomes dirty (framebuffer::PendingCopy; TigerVNC's update tracker, with rectangles
  // for regions).
  void framebuffer_copied(const framebuffer::Rect& dst, int src_x, int src_y);
  // Several disjoint areas moved by one offset (destination minus source) in one step, all read before any
  // was written: one scroll that the server reported as pieces.
  void framebuffer_moved(std::span<const framebuffer::Rect> dsts, int dx, int dy);
  // The picture is now `width` x `height`; the viewer learns it through DesktopSize/ExtendedDesktopSize on
  // its next update (a viewer supporting neither is closed: it cannot follow).
  void framebuffer_resized(int width, int height);
  // Answers a pending request from `fb` (its size must be the last one reported) when there is something to
  // send; returns true when an update was queued.
  bool send_update(const framebuffer::PixelBuffer& fb);
  // The update to send now, if any: a request is pending and something changed (or a resize or announcement
  // is due).
  std::optional<UpdatePlan> plan_update() const;
  // Queues the planned update; `pixels` = encode_pixels(picture, plan.pixels, plan.params), possibly made for
  // another viewer with the same plan, or null when plan.pixels is empty. Plan and send without feed() between.
  void send_update(const UpdatePlan& plan, const EncodedPixels* pixels);
  // The same with shared pixels (immutable): the output refers to them instead of copying them, so every
  // viewer of one encoding writes the same bytes (take_output_pieces()).
  void send_update(const UpdatePlan& plan, std::shared_ptr<const EncodedPixels> pixels);
  bool update_requested() const { return request_pending_; }

  void send_bell();
  void send_cut_text(const std::string& latin1);

  const PixelFormat& client_format() const { return writer_.format(); }
  const std::vector<std::int32_t>& client_encodings() const { return encodings_; }
  int protocol_minor() const { return minor_; }
  // The encoding pixel data is sent in: the viewer's first choice among those we encode.
  Encoding pixel_encoding() const;
  PixelParams pixel_params() const;

 private:
  enum class State { version, security_choice, vnc_response, client_init, normal, closed };

  bool step();
  bool read_version();
  bool read_security_choice();
  bool read_vnc_response();
  bool read_client_init();
  bool read_message();
  bool read_set_pixel_format();
  bool read_set_encodings();
  bool read_update_request();
  bool read_cut_text();
  bool read_qemu_message();
  bool read_set_desktop_size();
  void offer_security();
  void security_ok();
  void fail_auth(const std::string& reason);
  bool supports(Encoding e) const;
  void write_rect_header(const framebuffer::Rect& r, std::int32_t encoding);
  void queue_update(const UpdatePlan& plan, const EncodedPixels* pixels, std::shared_ptr<const EncodedPixels> shared);
  void write_u8(unsigned v) { out_.push_back(static_cast<std::uint8_t>(v)); }
  void write_u16(unsigned v);
  void write_u32(std::uint32_t v);

  ServerOptions options_;
  ServerListener* listener_;
  State state_ = State::version;
  std::string close_reason_;
  int minor_ = 8;
  std::uint8_t security_ = 1;
  std::array<std::uint8_t, 16> challenge_{};
  InBuffer in_;
  io::Output queued_;              // output before out_: pieces, shared pixels among them
  std::vector<std::uint8_t> out_;  // output being written
  PixelWriter writer_;
  std::vector<std::int32_t> encodings_;
  // Bit i: the viewer's inflater for Tight stream i / ZRLE has read its zlib header.
  unsigned tight_streams_started_ = 0, zrle_streams_started_ = 0;
  int compress_level_ = 1;  // Tight zlib level when the viewer names none (cheap, like ZRLE)
  int jpeg_quality_ = -1;   // Tight JPEG quality 0-9; -1: the viewer asked for none, stay lossless
  int width_, height_;
  framebuffer::PendingCopy copy_;  // to send before the dirty pixels
  framebuffer::Damage dirty_;      // changed and not yet sent
  framebuffer::Rect requested_;    // union of pending requests' areas
  bool request_pending_ = false;
  bool resize_pending_ = false;
  bool announce_qemu_keys_ = false;  // tell the viewer once that QEMU extended key events are understood
};

}  // namespace vncgate::rfb
