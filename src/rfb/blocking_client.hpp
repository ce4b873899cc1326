// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "io/endpoint.hpp"
#include "rfb/client_connection.hpp"

namespace vncgate::rfb {

// A synchronous RFB client for one-shot tools (snapshot) and tests: runs its own io_context on the calling
// thread. Connect and handshake happen in the constructor; each call drives the connection until its
// condition holds or the timeout passes. Errors throw vncgate::Error (IoError, AuthError, ProtocolError).
class BlockingClient {
 public:
  // `prepare` runs on the connection before connecting (install a tap, e.g. an FBS recorder).
  BlockingClient(const io::Endpoint& endpoint, ClientOptions options, std::chrono::milliseconds timeout,
                 const std::function<void(ClientConnection&)>& prepare = {});
  ~BlockingClient();

  // Requests a full (non-incremental) update and waits for it to complete.
  void full_update(std::chrono::milliseconds timeout);
  // Requests an incremental update and waits until it completes; false when nothing came before `timeout`
  // (the screen did not change; the request stays outstanding and is answered by a later call).
  bool next_update(std::chrono::milliseconds timeout);
  // Processes whatever arrives for `duration` without asking for updates.
  void pump(std::chrono::milliseconds duration);

  ClientConnection& connection();
  const framebuffer::PixelBuffer& framebuffer() { return connection().framebuffer(); }
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vncgate::rfb
