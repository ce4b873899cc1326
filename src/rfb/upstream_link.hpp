// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <string>

#include "framebuffer/pixel_buffer.hpp"
#include "io/endpoint.hpp"
#include "rfb/client_connection.hpp"

namespace vncgate::rfb {

class AsyncClient;

// How to reach the console right now: asked again for every connection (provider consoles hand out one-time
// ports and tickets). The password goes in `options`.
struct Console {
  io::Endpoint endpoint;
  ClientOptions options;
};
using AcquireConsole = std::function<boost::asio::awaitable<Console>()>;

// When an upstream link keeps trying and when it gives up.
struct LinkPolicy {
  // After a connection was up and dropped: reconnect with backoff for this long, then give up.
  std::chrono::milliseconds give_up = std::chrono::milliseconds::max();
  // Before any connection came up: a console that is not reachable yet (I/O faults: refused, timed out, closed)
  // is retried for this long — a VM still booting. Auth, provider and protocol faults end the link at once
  // (retrying cannot fix a typo or a wrong password). 0 = the first fault ends it.
  std::chrono::milliseconds connect_grace{0};
  // The console was up before (a job resumed after a restart): the first connection is retried like a
  // reconnect after a drop (any fault, for give_up).
  bool resumed = false;
  // Before any connection came up: at most this many attempts (0 = no cap besides connect_grace), so a target
  // that never answers is not tried for ever.
  int connect_attempts = 0;
  std::string log_name = "upstream";  // for log lines: "record", "session Ab3…"
};

// Events of an upstream link, on its executor. The ClientListener events of the live connection come too
// (on_connected: ServerInit of connection number `connections()`).
class LinkListener : public ClientListener {
 public:
  // Connection `number` is about to connect: install taps on its connection here (an FBS recording: the stream
  // carries zlib state from its first byte); `client` may be kept to drive it (update pacing).
  virtual void link_connecting(int /*number*/, const std::shared_ptr<AsyncClient>& /*client*/) {}
  // Connection `number` ended (it may never have come up); the link retries unless it gives up.
  virtual void link_closed(int /*number*/, bool /*was_up*/, const std::string& /*reason*/) {}
  // The link gave up for good: its policy's window passed, or the first connection failed for a reason waiting
  // cannot fix. Not called after close().
  virtual void link_failed(std::exception_ptr /*why*/) {}
};

// One upstream RFB console kept connected: acquire → connect → run, and on a drop backoff (util/backoff.hpp)
// and again, within the policy's windows. The picture passes from one connection to the next (viewers and
// recordings see the last screen while it reconnects, no black frame). Used by the recorder (record::Capture)
// and the gateway (gateway::Session). Everything runs on `executor` (the owner's strand or thread); create it
// with std::make_shared: its coroutine holds it, and the owner passed to start(), until it ends.
class UpstreamLink : public std::enable_shared_from_this<UpstreamLink>, private ClientListener {
 public:
  UpstreamLink(boost::asio::any_io_executor executor, AcquireConsole acquire, LinkPolicy policy,
               LinkListener& listener);
  ~UpstreamLink() override;
  UpstreamLink(const UpstreamLink&) = delete;
  UpstreamLink& operator=(const UpstreamLink&) = delete;

  // Starts connecting; `owner` (whose listener the link calls) is held until the link ends.
  void start(std::shared_ptr<void> owner = nullptr);
  // Closes the live connection and stops retrying; no events follow. Idempotent.
  void close();
  bool closed() const { return closed_; }

  // The live connection (null between connections) and whether it finished its handshake.
  AsyncClient* client() const { return client_.get(); }
  ClientConnection* connection() const;
  bool up() const;
  int connections() const { return connections_; }
  // The current picture, awake: the live connection's, or the one held between connections (0x0 before the
  // first ServerInit).
  const framebuffer::PixelBuffer& picture();
  // Idle memory: the live connection hibernates (ClientConnection::hibernate), or the held picture is compacted.
  void hibernate();

 private:
  boost::asio::awaitable<void> run(std::shared_ptr<UpstreamLink> self, std::shared_ptr<void> owner);
  std::string give_up_message(std::chrono::milliseconds window, const std::string& reason) const;

  // ClientListener: the live connection's events, passed on while the link is open.
  void on_connected(const ServerInit& init) override;
  void on_update(const Rect& damage) override;
  void on_resize(int width, int height) override;
  void on_cursor() override;
  void on_bell() override;
  void on_server_cut_text(const std::string& text) override;

  boost::asio::any_io_executor executor_;
  AcquireConsole acquire_;
  LinkPolicy policy_;
  LinkListener& listener_;
  std::shared_ptr<AsyncClient> client_;
  framebuffer::PixelBuffer held_;  // the picture while no connection holds it
  boost::asio::steady_timer backoff_timer_;
  int connections_ = 0;
  bool connected_once_ = false;
  bool closed_ = false;
};

}  // namespace vncgate::rfb
