// SPDX-License-Identifier: Apache-2.0
#include "rfb/upstream_link.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "rfb/async_client.hpp"
#include "util/backoff.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace vncgate::rfb {

namespace asio = boost::asio;
using namespace std::chrono;

namespace {

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

std::string reason_of(const std::exception_ptr& error) {
  try {
    if (error) std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "connection ended";
}

std::string seconds_text(milliseconds d) { return fmt::format("{:g} s", static_cast<double>(d.count()) / 1000); }

}  // namespace

UpstreamLink::UpstreamLink(asio::any_io_executor executor, AcquireConsole acquire, LinkPolicy policy,
                           LinkListener& listener)
    : executor_(std::move(executor)),
      acquire_(std::move(acquire)),
      policy_(std::move(policy)),
      listener_(listener),
      backoff_timer_(executor_) {}

UpstreamLink::~UpstreamLink() = default;

void UpstreamLink::start(std::shared_ptr<void> owner) {
  auto self = shared_from_this();
  asio::co_spawn(executor_, run(self, std::move(owner)), asio::detached);
}

void UpstreamLink::close() {
  closed_ = true;
  if (client_) client_->close();
  backoff_timer_.cancel();
}

ClientConnection* UpstreamLink::connection() const { return client_ ? &client_->connection() : nullptr; }

bool UpstreamLink::up() const { return client_ && client_->connection().ready(); }

const framebuffer::PixelBuffer& UpstreamLink::picture() {
  if (client_) {
    auto& conn = client_->connection();
    if (conn.hibernating()) conn.wake();
    return conn.framebuffer();
  }
  if (held_.compacted()) held_.expand();
  return held_;
}

void UpstreamLink::hibernate() {
  if (client_)
    client_->connection().hibernate();
  else
    held_.compact();
}

std::string UpstreamLink::give_up_message(milliseconds window, const std::string& reason) const {
  const auto last = " (last error: " + reason + ")";
  if (connected_once_) return "upstream gone for " + seconds_text(window) + ", giving up" + last;
  if (policy_.resumed) return "console not reachable for " + seconds_text(window) + " after resuming, giving up" + last;
  return "console not reachable within the " + seconds_text(window) + " connect grace" + last;
}

// `self` and `owner` are held by the coroutine frame only: the link and its owner live as long as it runs.
asio::awaitable<void> UpstreamLink::run([[maybe_unused]] std::shared_ptr<UpstreamLink> self,
                                        [[maybe_unused]] std::shared_ptr<void> owner) {
  auto down_since = steady_clock::now();
  Backoff backoff;
  int retries = 0;
  while (!closed_) {
    std::exception_ptr error;
    try {
      auto console = co_await acquire_();
      if (closed_) break;
      client_ =
          std::make_shared<AsyncClient>(executor_, std::move(console.options), static_cast<ClientListener*>(this));
      client_->connection().adopt_framebuffer(std::move(held_));  // repainted in place, not from black
      ++connections_;
      listener_.link_connecting(connections_, client_);
      co_await client_->run(console.endpoint);
    } catch (...) {
      error = std::current_exception();
    }
    const bool was_up = up();
    if (client_) {
      client_->close();  // its writer holds it until it has unwound
      held_ = client_->connection().take_framebuffer();
      client_.reset();
    }
    if (closed_) break;
    const auto reason = reason_of(error);
    listener_.link_closed(connections_, was_up, reason);
    // A first connection that fails is most often a mistake to report at once; it only waits out the grace
    // for a console that is not reachable yet. A resumed link was up before the restart: like a dropped one,
    // it retries anything until give_up.
    const bool as_reconnect = connected_once_ || policy_.resumed;
    const bool attempts_used = policy_.connect_attempts > 0 && retries + 1 >= policy_.connect_attempts;
    if (!as_reconnect &&
        (policy_.connect_grace <= milliseconds::zero() || !not_reachable_yet(error) || attempts_used)) {
      listener_.link_failed(error ? error : std::make_exception_ptr(IoError(reason)));
      break;
    }
    if (was_up) {
      down_since = steady_clock::now();
      backoff.reset();
      spdlog::warn("{}: upstream lost ({}); reconnecting, keeping the last picture", policy_.log_name, reason);
    }
    const auto window = as_reconnect ? policy_.give_up : policy_.connect_grace;
    const auto elapsed = steady_clock::now() - down_since;
    if (window != milliseconds::max() && elapsed >= window) {
      listener_.link_failed(std::make_exception_ptr(IoError(give_up_message(window, reason))));
      break;
    }
    if (!connected_once_ && retries == 0)
      spdlog::warn("{}: console not reachable ({}); retrying{}", policy_.log_name, reason,
                   window == milliseconds::max() ? "" : " for up to " + seconds_text(window));
    // The last attempt falls on the end of the window, so giving up comes when the window says.
    auto wait = duration_cast<steady_clock::duration>(backoff.next());
    if (window != milliseconds::max()) wait = std::min<steady_clock::duration>(wait, window - elapsed);
    backoff_timer_.expires_after(wait);
    co_await backoff_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    ++retries;
    spdlog::info("{}: reconnect attempt {}", policy_.log_name, retries);
  }
}

void UpstreamLink::on_connected(const ServerInit& init) {
  connected_once_ = true;
  if (!closed_) listener_.on_connected(init);
}
void UpstreamLink::on_update(const Rect& damage) {
  if (!closed_) listener_.on_update(damage);
}
void UpstreamLink::on_resize(int width, int height) {
  if (!closed_) listener_.on_resize(width, height);
}
void UpstreamLink::on_cursor() {
  if (!closed_) listener_.on_cursor();
}
void UpstreamLink::on_bell() {
  if (!closed_) listener_.on_bell();
}
void UpstreamLink::on_server_cut_text(const std::string& text) {
  if (!closed_) listener_.on_server_cut_text(text);
}

}  // namespace vncgate::rfb
