// SPDX-License-Identifier: Apache-2.0
#include "rfb/blocking_client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "io/byte_stream.hpp"
#include "util/error.hpp"

namespace vncgate::rfb {

namespace asio = boost::asio;
using namespace std::chrono;

struct BlockingClient::Impl {
  asio::io_context ctx;  // first member: outlives the stream whose sockets belong to it
  std::unique_ptr<io::ByteStream> stream;
  ClientConnection conn;
  std::vector<std::uint8_t> read_buffer = std::vector<std::uint8_t>(64 * 1024);
  std::exception_ptr error;
  bool writing = false;
  bool closed = false;

  explicit Impl(ClientOptions options) : conn(std::move(options)) {}

  ~Impl() { shutdown(); }

  void shutdown() {
    if (closed) return;
    closed = true;
    if (stream) stream->close();
    ctx.restart();
    ctx.poll();  // let the cancelled coroutines unwind before the stream goes away
  }

  void fail(std::exception_ptr e) {
    if (!error) error = e;
    if (stream) stream->close();
  }

  // One writer at a time drains everything the connection has queued.
  void kick_writer() {
    if (writing || !stream || !conn.has_output()) return;
    writing = true;
    asio::co_spawn(ctx, [this]() -> asio::awaitable<void> {
      try {
        while (conn.has_output()) {
          auto bytes = conn.take_output();
          co_await stream->write(asio::buffer(bytes));
        }
      } catch (...) {
        fail(std::current_exception());
      }
      writing = false;
    }, asio::detached);
  }

  asio::awaitable<void> run(io::Endpoint endpoint) {
    try {
      stream = co_await io::connect(ctx.get_executor(), endpoint);
      for (;;) {
        const auto n = co_await stream->read_some(asio::buffer(read_buffer));
        conn.feed({read_buffer.data(), n});
        kick_writer();
      }
    } catch (...) {
      fail(std::current_exception());
    }
  }

  // Runs handlers until `done()` holds; rethrows a connection error; false on timeout.
  template <typename Pred>
  bool run_until(Pred done, milliseconds timeout) {
    kick_writer();
    const auto deadline = steady_clock::now() + timeout;
    while (!done()) {
      if (error) std::rethrow_exception(error);
      const auto now = steady_clock::now();
      if (now >= deadline) return false;
      if (ctx.stopped()) ctx.restart();
      if (ctx.run_one_for(deadline - now) == 0 && !error && ctx.stopped())
        throw IoError("connection ended unexpectedly");
    }
    return true;
  }
};

BlockingClient::BlockingClient(const io::Endpoint& endpoint, ClientOptions options, milliseconds timeout,
                               const std::function<void(ClientConnection&)>& prepare)
    : impl_(std::make_unique<Impl>(std::move(options))) {
  if (prepare) prepare(impl_->conn);
  asio::co_spawn(impl_->ctx, impl_->run(endpoint), asio::detached);
  if (!impl_->run_until([&] { return impl_->conn.ready(); }, timeout))
    throw IoError("timed out after " + std::to_string(timeout.count()) + " ms waiting for the RFB handshake with " +
                  io::redact_url(endpoint.url));
}

BlockingClient::~BlockingClient() = default;

void BlockingClient::full_update(milliseconds timeout) {
  auto& conn = impl_->conn;
  const auto before = conn.updates_completed();
  // The connection asked for a full update itself after ServerInit; wait until its pixels have all arrived.
  if (before > 0) conn.request_update(false);
  if (!impl_->run_until([&] { return conn.updates_completed() > before && conn.frame_complete(); }, timeout))
    throw IoError("timed out after " + std::to_string(timeout.count()) + " ms waiting for a full framebuffer update");
}

bool BlockingClient::next_update(milliseconds timeout) {
  auto& conn = impl_->conn;
  const auto before = conn.updates_completed();
  if (!conn.update_pending()) conn.request_update(true);
  return impl_->run_until([&] { return conn.updates_completed() > before; }, timeout);
}

void BlockingClient::pump(milliseconds duration) {
  impl_->run_until([] { return false; }, duration);
}

ClientConnection& BlockingClient::connection() { return impl_->conn; }

void BlockingClient::close() { impl_->shutdown(); }

}  // namespace vncgate::rfb
