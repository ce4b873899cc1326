// SPDX-License-Identifier: Apache-2.0
#include "record/capture.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <mutex>
#include <thread>

#include "framebuffer/cursor.hpp"
#include "rfb/async_client.hpp"
#include "util/backoff.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace vncgate::record {

namespace asio = boost::asio;
using namespace std::chrono;

namespace {
asio::awaitable<void> sleep_for(steady_clock::duration d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  co_await timer.async_wait(asio::use_awaitable);
}

// A console that is not reachable yet (refused, timed out, closed before the handshake ended) may be booting;
// an auth, provider or protocol fault will not go away by waiting.
bool not_reachable_yet(const std::exception_ptr& error) {
  if (!error) return true;  // the server hung up
  try {
    std::rethrow_exception(error);
  } catch (const IoError&) {
    return true;
  } catch (...) {
    return false;
  }
}

std::string seconds_text(milliseconds d) { return fmt::format("{:g} s", static_cast<double>(d.count()) / 1000); }
}  // namespace

struct Capture::Impl : rfb::ClientListener {
  Acquire acquire;
  CaptureOptions options;
  JobClock& clock;
  FrameSlot& slot;
  CaptureEvents events;
  asio::io_context ctx;
  std::thread thread;
  std::shared_ptr<rfb::AsyncClient> client;
  asio::steady_timer backoff_timer{ctx};
  bool stopping = false;
  bool connected_once = false;
  int connection = 0;
  int reconnects = 0;
  mutable std::mutex failure_mutex;
  std::exception_ptr failure;
  framebuffer::PixelBuffer composed;  // frame + pointer when options.cursor

  Impl(Acquire a, CaptureOptions o, JobClock& c, FrameSlot& s, CaptureEvents e)
      : acquire(std::move(a)), options(o), clock(c), slot(s), events(std::move(e)) {}

  // ClientListener: called from inside feed() on the network thread.
  void on_connected(const rfb::ServerInit& init) override {
    connected_once = true;
    if (events.connected) events.connected(connection, init, client->connection().converter().format());
  }
  void on_resize(int w, int h) override {
    if (events.resized) events.resized(w, h);
  }
  void on_update(const framebuffer::Rect&) override {
    auto& conn = client->connection();
    if (!conn.frame_complete()) return;  // half-painted screens never reach the recording
    const auto t = clock.start_or_now();
    if (!options.cursor) return slot.publish(conn.framebuffer(), t);
    composed = conn.framebuffer();
    framebuffer::composite(composed, conn.cursor(), conn.pointer()[0], conn.pointer()[1]);
    slot.publish(composed, t);
  }

  // Asks for an incremental update at most `fps` times a second; an unchanged screen leaves the request
  // outstanding and costs nothing until the server answers it.
  asio::awaitable<void> pace(std::shared_ptr<rfb::AsyncClient> c, int n) {
    const auto period = duration_cast<steady_clock::duration>(duration<double>(1.0 / options.fps));
    while (!c->closed()) {
      auto& conn = c->connection();
      if (conn.ready() && !conn.update_pending()) {
        conn.request_update(true);
        c->flush();
      }
      if (events.tick) events.tick(n);
      co_await sleep_for(period);
    }
  }

  std::string give_up_message(milliseconds window, const std::string& reason) const {
    const auto last = " (last error: " + reason + ")";
    if (connected_once) return "upstream gone for " + seconds_text(window) + ", giving up" + last;
    if (options.resumed)
      return "console not reachable for " + seconds_text(window) + " after resuming, giving up" + last;
    return "console not reachable within the " + seconds_text(window) + " connect grace" + last;
  }

  void set_failure(std::exception_ptr e) {
    std::lock_guard lock(failure_mutex);
    if (!failure) failure = e;
  }

  asio::awaitable<void> run() {
    auto executor = co_await asio::this_coro::executor;
    auto down_since = steady_clock::now();
    Backoff backoff;
    while (!stopping) {
      std::exception_ptr error;
      try {
        Console console = acquire();
        client = std::make_shared<rfb::AsyncClient>(executor, console.options, this);
        ++connection;
        if (events.prepare) events.prepare(connection, client->connection());
        asio::co_spawn(executor, pace(client, connection), asio::detached);
        co_await client->run(console.endpoint);
      } catch (...) {
        error = std::current_exception();
      }
      const bool was_up = client && client->connection().ready();
      if (client) client->close();
      // Let the cancelled writer unwind before the stream may go away with the client.
      co_await sleep_for(milliseconds(1));
      if (stopping) break;
      std::string reason = "connection ended";
      try {
        if (error) std::rethrow_exception(error);
      } catch (const std::exception& e) {
        reason = e.what();
      }
      // A new recording whose first connection fails is most often a mistake to report at once; it only waits
      // out its grace for a console that is not reachable yet. A resumed one was up before the restart: like a
      // dropped one, it retries anything until give_up.
      const bool as_reconnect = connected_once || options.resumed;
      if (!as_reconnect && (options.connect_grace <= milliseconds::zero() || !not_reachable_yet(error))) {
        set_failure(error ? error : std::make_exception_ptr(IoError(reason)));
        break;
      }
      if (was_up) {
        down_since = steady_clock::now();
        backoff.reset();
        spdlog::warn("record: upstream lost ({}); reconnecting, holding the last frame", reason);
        if (events.disconnected) events.disconnected(reason);
      }
      const auto window = as_reconnect ? options.give_up : options.connect_grace;
      const auto left = window - (steady_clock::now() - down_since);
      if (left <= steady_clock::duration::zero()) {
        set_failure(std::make_exception_ptr(IoError(give_up_message(window, reason))));
        break;
      }
      if (!connected_once && reconnects == 0)
        spdlog::warn("record: console not reachable ({}); retrying for up to {}", reason, seconds_text(window));
      // The last attempt falls on the end of the window, so giving up comes when the window says.
      backoff_timer.expires_after(std::min<steady_clock::duration>(backoff.next(), left));
      try {
        co_await backoff_timer.async_wait(asio::use_awaitable);
      } catch (...) {  // cancelled by stop()
      }
      ++reconnects;
      spdlog::info("record: reconnect attempt {}", reconnects);
    }
  }
};

Capture::Capture(Acquire acquire, CaptureOptions options, JobClock& clock, FrameSlot& slot, CaptureEvents events)
    : impl_(std::make_unique<Impl>(std::move(acquire), options, clock, slot, std::move(events))) {}

Capture::~Capture() { stop(); }

void Capture::start() {
  auto& d = *impl_;
  asio::co_spawn(d.ctx, d.run(), [&d](std::exception_ptr e) {
    if (e) d.set_failure(e);
    d.slot.wake();
  });
  d.thread = std::thread([&d] {
    try {
      d.ctx.run();
    } catch (...) {
      d.set_failure(std::current_exception());
      d.slot.wake();
    }
  });
}

void Capture::stop() {
  auto& d = *impl_;
  if (!d.thread.joinable()) return;
  asio::post(d.ctx, [&d] {
    d.stopping = true;
    if (d.client) d.client->close();
    d.backoff_timer.cancel();
  });
  d.thread.join();
}

std::exception_ptr Capture::failure() const {
  std::lock_guard lock(impl_->failure_mutex);
  return impl_->failure;
}

}  // namespace vncgate::record
