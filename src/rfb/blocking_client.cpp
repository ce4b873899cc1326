// SPDX-License-Identifier: Apache-2.0
#include "rfb/blocking_client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "rfb/async_client.hpp"
#include "util/error.hpp"

namespace vncgate::rfb {

namespace asio = boost::asio;
using namespace std::chrono;

struct BlockingClient::Impl {
  asio::io_context ctx;  // first member: outlives the client whose stream belongs to it
  std::shared_ptr<AsyncClient> client_ptr;
  AsyncClient& client;
  std::exception_ptr error;
  bool finished = false;
  bool closed = false;

  explicit Impl(ClientOptions options)
      : client_ptr(std::make_shared<AsyncClient>(ctx.get_executor(), std::move(options))), client(*client_ptr) {}

  ~Impl() { shutdown(); }

  void shutdown() {
    if (closed) return;
    closed = true;
    client.close();
    ctx.restart();
    ctx.poll();  // let the cancelled coroutines unwind before the stream goes away
  }

  void start(const io::Endpoint& endpoint) {
    asio::co_spawn(ctx, client.run(endpoint), [this](std::exception_ptr e) {
      finished = true;
      error = e;
    });
  }

  // Runs handlers until `done()` holds; rethrows a connection error; false on timeout.
  template <typename Pred>
  bool run_until(Pred done, milliseconds timeout) {
    client.flush();
    const auto deadline = steady_clock::now() + timeout;
    while (!done()) {
      if (error) std::rethrow_exception(error);
      const auto now = steady_clock::now();
      if (now >= deadline) return false;
      if (ctx.stopped()) ctx.restart();
      if (ctx.run_one_for(deadline - now) == 0 && !error && (finished || ctx.stopped()))
        throw IoError("connection ended unexpectedly");
    }
    return true;
  }
};

BlockingClient::BlockingClient(const io::Endpoint& endpoint, ClientOptions options, milliseconds timeout,
                               const std::function<void(ClientConnection&)>& prepare)
    : impl_(std::make_unique<Impl>(std::move(options))) {
  if (prepare) prepare(impl_->client.connection());
  impl_->start(endpoint);
  if (!impl_->run_until([&] { return impl_->client.connection().ready(); }, timeout))
    throw IoError("timed out after " + std::to_string(timeout.count()) + " ms waiting for the RFB handshake with " +
                  io::redact_url(endpoint.url));
}

BlockingClient::~BlockingClient() = default;

void BlockingClient::full_update(milliseconds timeout) {
  auto& conn = impl_->client.connection();
  const auto before = conn.updates_completed();
  // The connection asked for a full update itself after ServerInit; wait until its pixels have all arrived.
  if (before > 0) conn.request_update(false);
  if (!impl_->run_until([&] { return conn.updates_completed() > before && conn.frame_complete(); }, timeout))
    throw IoError("timed out after " + std::to_string(timeout.count()) + " ms waiting for a full framebuffer update");
}

bool BlockingClient::next_update(milliseconds timeout) {
  auto& conn = impl_->client.connection();
  const auto before = conn.updates_completed();
  if (!conn.update_pending()) conn.request_update(true);
  return impl_->run_until([&] { return conn.updates_completed() > before; }, timeout);
}

void BlockingClient::pump(milliseconds duration) {
  impl_->run_until([] { return false; }, duration);
}

ClientConnection& BlockingClient::connection() { return impl_->client.connection(); }

void BlockingClient::close() { impl_->shutdown(); }

}  // namespace vncgate::rfb
