// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>

#include "framebuffer/damage.hpp"
#include "framebuffer/pixel_buffer.hpp"
#include "io/byte_stream.hpp"
#include "rfb/server_connection.hpp"
#include "rfb/shared_encodings.hpp"

namespace vncgate::rfb {

// What an AsyncServer serves: the owner's picture (a gateway session's upstream screen, a replayed recording).
class PictureSource {
 public:
  virtual ~PictureSource() = default;
  // The picture, awake (an owner that hibernates expands it here); called only while can_serve().
  virtual const framebuffer::PixelBuffer& picture() = 0;
  // An update may be built now: no change of the picture is half applied (an upstream update in progress).
  virtual bool can_serve() const = 0;
  // Something was encoded: the owner's idle clock starts again.
  virtual void served() {}
};

// Input from viewers that may give it (view-only viewers' input is dropped and counted by the server), and
// viewers leaving.
class ViewerEvents {
 public:
  virtual ~ViewerEvents() = default;
  // `keycode`: the XT scancode of a QEMU extended key event (`qemu`), else 0.
  virtual void key(int viewer, std::uint32_t keysym, std::uint32_t keycode, bool down, bool qemu) = 0;
  virtual void pointer(int viewer, int x, int y, std::uint8_t buttons, bool buttons_changed) = 0;
  virtual void cut_text(int viewer, const std::string& latin1) = 0;
  virtual void desktop_size(int viewer, int width, int height) = 0;
  virtual void viewer_left(int /*viewer*/) {}
};

struct ViewerCounts {
  int viewers = 0, view_only = 0, total = 0;  // now, now view-only, ever attached
};

// The server side of RFB for one picture and any number of viewers, each an rfb::ServerConnection over a
// ByteStream (the mirror of AsyncClient), on one strand. A change only marks damage in each viewer; a viewer is
// sent an update when it asked and its previous one is written, so a slow viewer holds at most one update and
// never slows the others (newest wins). Viewers owed the same area in the same format and encoding share one
// encoding of it (SharedEncodings); a viewer alone has its own encoders, whose zlib streams keep their history
// (encode()). Used by the gateway's sessions and `vncgate play`.
// Everything runs on `strand`; create it with std::make_shared (its coroutines hold it, and the owner passed to
// attach(), until they end). counts() and the counters may be read from any thread.
class AsyncServer : public std::enable_shared_from_this<AsyncServer> {
 public:
  AsyncServer(boost::asio::any_io_executor strand, ServerOptions options, PictureSource& source, ViewerEvents* events,
              std::string log_name);
  ~AsyncServer();
  AsyncServer(const AsyncServer&) = delete;
  AsyncServer& operator=(const AsyncServer&) = delete;

  // A new viewer on `stream`; greeted (RFB handshake) once the picture exists (open()). `owner` is held while
  // the viewer is served. Returns its number.
  int attach(std::unique_ptr<io::ByteStream> stream, bool view_only, std::shared_ptr<void> owner = nullptr);
  // The picture exists from now on, `width` x `height`: viewers waiting for it are greeted.
  void open(int width, int height);
  bool opened() const { return opened_; }

  // Changes of the picture (framebuffer coordinates), told to every viewer; then update_ready().
  void changed(const framebuffer::Damage& damage);
  // Disjoint areas moved by one offset in one step (ServerConnection::framebuffer_moved).
  void moved(std::span<const framebuffer::Rect> dsts, int dx, int dy);
  void resized(int width, int height);
  void bell();
  void cut_text(const std::string& latin1);
  // Viewers that asked get their update now (after a change, or once can_serve() turned true).
  void update_ready();
  // Idle: drops the kept encodings and the viewers' own encoders.
  void release();
  // Closes every viewer and refuses new ones.
  void close();

  ViewerCounts counts() const;
  std::uint64_t bytes_sent() const { return bytes_sent_; }
  std::uint64_t dropped_input() const { return dropped_input_; }
  std::uint64_t updates_encoded() const { return updates_encoded_; }
  std::uint64_t updates_shared() const { return updates_shared_; }

 private:
  struct Viewer;

  boost::asio::awaitable<void> serve(std::shared_ptr<Viewer> v);
  io::Output next_output(Viewer& v);
  std::shared_ptr<const EncodedPixels> encode(Viewer& v, const UpdatePlan& plan);
  void expect_handshake(const std::shared_ptr<Viewer>& v);
  void kick(const std::shared_ptr<Viewer>& v);
  void drop(const std::shared_ptr<Viewer>& v, const std::string& why);
  void input_allowed(Viewer& v, const std::function<void()>& forward);

  boost::asio::any_io_executor strand_;
  ServerOptions options_;
  PictureSource& source_;
  ViewerEvents* input_;
  std::string log_name_;
  SharedEncodings encodings_;
  std::map<int, std::shared_ptr<Viewer>> viewers_;
  boost::asio::steady_timer opened_timer_;  // viewers wait on it until open()
  int width_ = 0, height_ = 0;
  int next_viewer_ = 1;
  std::uint64_t own_encoded_ = 0;  // updates encoded by a lone viewer's own encoders
  bool opened_ = false;
  bool closed_ = false;
  mutable std::mutex counts_mutex_;
  ViewerCounts counts_;
  std::atomic<std::uint64_t> bytes_sent_{0}, dropped_input_{0}, updates_encoded_{0}, updates_shared_{0};
};

}  // namespace vncgate::rfb
