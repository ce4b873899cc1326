// SPDX-License-Identifier: Apache-2.0
#include "record/capture.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
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
#include "util/log.hpp"

namespace vncgate::record {

namespace asio = boost::asio;
using namespace std::chrono;

struct Capture::Impl : rfb::LinkListener {
  Acquire acquire;
  CaptureOptions options;
  JobClock& clock;
  FrameSlot& slot;
  CaptureEvents events;
  asio::io_context ctx;
  std::thread thread;
  std::shared_ptr<rfb::UpstreamLink> link;
  mutable std::mutex failure_mutex;
  std::exception_ptr failure;
  framebuffer::PixelBuffer composed;  // frame + pointer when options.cursor
  steady_clock::time_point last_update = steady_clock::now();

  Impl(Acquire a, CaptureOptions o, JobClock& c, FrameSlot& s, CaptureEvents e)
      : acquire(std::move(a)), options(o), clock(c), slot(s), events(std::move(e)) {}

  // The blocking provider call as the link's awaitable acquire: this thread is the recording's own.
  asio::awaitable<Console> acquire_console() { co_return acquire(); }

  // LinkListener: on the capture thread.
  void link_connecting(int number, const std::shared_ptr<rfb::AsyncClient>& client) override {
    if (events.prepare) events.prepare(number, client->connection());
    auto pacer = pace(client, number);
    asio::co_spawn(ctx, std::move(pacer), asio::detached);
  }
  void link_closed(int, bool was_up, const std::string& reason) override {
    if (was_up && events.disconnected) events.disconnected(reason);
  }
  void link_failed(std::exception_ptr why) override {
    set_failure(why);
    slot.wake();
  }
  void on_connected(const rfb::ServerInit& init) override {
    if (events.connected) events.connected(link->connections(), init, link->connection()->converter().format());
  }
  void on_resize(int w, int h) override {
    if (events.resized) events.resized(w, h);
  }
  void on_update(const framebuffer::Rect&) override {
    last_update = steady_clock::now();
    auto& conn = *link->connection();
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
    // Clamped whatever the caller checked: 1/fps of a tiny fps overflows the clock's integer duration, and a
    // negative period would request updates as fast as the loop turns.
    const double fps = options.fps > 0 ? std::clamp(options.fps, 0.1, 120.0) : 10.0;
    const auto period = duration_cast<steady_clock::duration>(duration<double>(1.0 / fps));
    asio::steady_timer timer(ctx);
    while (!c->closed()) {
      auto& conn = c->connection();
      if (conn.ready() && !conn.update_pending()) {
        conn.request_update(true);
        c->flush();
      }
      // A still screen: the picture waits compressed for the next update (feed() wakes it).
      if (options.hibernate_after.count() > 0 && !conn.hibernating() && conn.ready() &&
          steady_clock::now() - last_update >= options.hibernate_after) {
        composed = {};
        conn.hibernate();
      }
      if (events.tick) events.tick(n);
      timer.expires_after(period);
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }

  void set_failure(std::exception_ptr e) {
    std::lock_guard lock(failure_mutex);
    if (!failure) failure = e;
  }
};

Capture::Capture(Acquire acquire, CaptureOptions options, JobClock& clock, FrameSlot& slot, CaptureEvents events)
    : impl_(std::make_unique<Impl>(std::move(acquire), options, clock, slot, std::move(events))) {}

Capture::~Capture() { stop(); }

void Capture::start() {
  auto& d = *impl_;
  rfb::LinkPolicy policy;
  policy.give_up = d.options.give_up;
  policy.connect_grace = d.options.connect_grace;
  policy.resumed = d.options.resumed;
  policy.log_name = "record";
  d.link = std::make_shared<rfb::UpstreamLink>(
      d.ctx.get_executor(), [&d]() { return d.acquire_console(); }, std::move(policy), d);
  d.link->start();
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
  asio::post(d.ctx, [&d] { d.link->close(); });
  d.thread.join();
}

std::exception_ptr Capture::failure() const {
  std::lock_guard lock(impl_->failure_mutex);
  return impl_->failure;
}

}  // namespace vncgate::record
