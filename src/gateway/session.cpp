// SPDX-License-Identifier: Apache-2.0
#include "gateway/session.hpp"

#include <malloc.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "gateway/live_text.hpp"
#include "gateway/session_recording.hpp"
#include "io/endpoint.hpp"
#include "rfb/async_client.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace vncgate::gateway {

using namespace std::chrono;

const char* to_string(SessionState state) {
  switch (state) {
    case SessionState::active: return "active";
    case SessionState::connected: return "connected";
    case SessionState::disconnected: return "disconnected";
    case SessionState::closed: return "closed";
  }
  return "unknown";
}

std::int64_t unix_now_ms() { return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count(); }

namespace {

// The upstream must draw the pointer into its picture: our viewers get no cursor shape from us.
std::vector<rfb::Encoding> without_cursor(std::vector<rfb::Encoding> encodings) {
  std::erase_if(encodings, [](rfb::Encoding e) {
    return e == rfb::Encoding::cursor || e == rfb::Encoding::x_cursor || e == rfb::Encoding::pointer_pos;
  });
  return encodings;
}

// Returns freed heap pages to the system a second after a session hibernated (glibc keeps them otherwise,
// between live small allocations): one trim for the many sessions that tend to fall idle together.
void release_free_memory(const asio::any_io_executor& executor) {
#ifdef __GLIBC__
  static std::atomic<bool> pending{false};
  if (pending.exchange(true)) return;
  auto timer = std::make_shared<asio::steady_timer>(executor, seconds(1));
  timer->async_wait([timer](boost::system::error_code) {
    pending = false;
    malloc_trim(0);
  });
#endif
}

bool on_loopback(const std::string& url) {
  const auto parsed = io::parse_url(url);
  if (!parsed) return false;
  return parsed->host == "localhost" || io::is_loopback_address(parsed->host);
}

// CopyRect and Raw, then the pseudo-encodings of `encodings` (all negative numbers).
std::vector<rfb::Encoding> raw_only(const std::vector<rfb::Encoding>& encodings) {
  std::vector<rfb::Encoding> out{rfb::Encoding::raw, rfb::Encoding::copy_rect};
  for (const auto e : encodings)
    if (static_cast<std::int32_t>(e) < 0) out.push_back(e);  // pseudo-encodings are the negative numbers
  return out;
}

}  // namespace

Session::Session(asio::any_io_executor executor, std::string id, SharedAcquireFn acquire, SessionOptions options)
    : strand_(asio::make_strand(std::move(executor))),
      id_(std::move(id)),
      acquire_(std::move(acquire)),
      options_(std::move(options)),
      idle_timer_(strand_) {
  options_.upstream.encodings = without_cursor(options_.upstream.encodings);
  info_.id = id_;
  info_.target_label = options_.target_label;
  info_.created_unix_ms = info_.last_used_unix_ms = unix_now_ms();
  info_.recording = !options_.record_dir.empty();
}

Session::~Session() = default;

void Session::start() {
  if (!options_.record_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options_.record_dir, ec);
    if (ec) throw IoError("cannot create the recording directory " + options_.record_dir + ": " + ec.message());
    SessionRecordingOptions ro;
    ro.dir = options_.record_dir;
    ro.session_id = id_;
    ro.target_label = options_.target_label;
    ro.mp4 = options_.mp4;
    ro.encoder = options_.encoder;
    ro.segment_ms = options_.segment_ms;
    recording_ = std::make_shared<SessionRecording>(std::move(ro));
    recording_->start();
  }
  rfb::ServerOptions server;
  server.password = options_.viewer_password;
  server.name = options_.target_label;
  rfb::PictureSource& source = *this;
  rfb::ViewerEvents& events = *this;
  rfb::LinkListener& listener = *this;
  auto viewers = std::make_shared<rfb::AsyncServer>(strand_, std::move(server), source, &events, "session " + id_);
  {
    // The session is listed (info() on other threads) before it starts.
    std::lock_guard lock(info_mutex_);
    server_ = std::move(viewers);
  }
  rfb::LinkPolicy policy;
  policy.log_name = "session " + id_;
  // A live session waits for a console that is not reachable yet for connect_attempts attempts (or until idle
  // expiry or close); an auth, provider or protocol fault before it ever came up ends it at once.
  policy.connect_grace = milliseconds::max();
  policy.connect_attempts = options_.connect_attempts;
  link_ = std::make_shared<rfb::UpstreamLink>(
      strand_, [this]() { return acquire_console(); }, std::move(policy), listener);
  asio::post(strand_, [self = shared_from_this()] { self->link_->start(self); });
}

asio::awaitable<rfb::Console> Session::acquire_console() {
  auto console = co_await (*acquire_)(options_.target);
  rfb::Console out{std::move(console.endpoint), options_.upstream};
  out.options.password = console.password;
  if (options_.raw_on_loopback && on_loopback(out.endpoint.url))
    out.options.encodings = raw_only(out.options.encodings);
  co_return out;
}

void Session::attach(std::unique_ptr<io::ByteStream> viewer, bool view_only) {
  auto stream = std::make_shared<std::unique_ptr<io::ByteStream>>(std::move(viewer));  // handlers are copied
  asio::post(strand_, [self = shared_from_this(), stream, view_only] {
    if (self->closed_ || !self->server_) {
      (*stream)->close();
      return;
    }
    {
      std::lock_guard lock(self->info_mutex_);
      self->info_.last_used_unix_ms = unix_now_ms();
    }
    self->server_->attach(std::move(*stream), view_only, self);
    self->active();
    self->want_updates();
  });
}

void Session::watch_text(std::shared_ptr<TextWaiter> waiter, asio::any_io_executor reader) {
  asio::post(strand_, [self = shared_from_this(), waiter = std::move(waiter), reader = std::move(reader)] {
    if (!self->live_text_) self->live_text_ = std::make_shared<LiveText>(reader);
    if (self->closed_) self->live_text_->close();
    self->live_text_->add(waiter);  // settled at once when closed
    if (self->closed_) return;
    if (self->have_picture_) self->live_text_->frame(self->picture());
    self->want_updates();  // also with no viewer watching
  });
}

void Session::close(std::function<void()> done) {
  asio::post(strand_, [self = shared_from_this(), done = std::move(done)]() mutable {
    if (done) self->on_closed_.push_back(std::move(done));
    self->do_close();
  });
}

SessionInfo Session::info() const {
  SessionInfo out;
  std::shared_ptr<rfb::AsyncServer> server;
  {
    std::lock_guard lock(info_mutex_);
    out = info_;
    server = server_;
  }
  if (server) {
    const auto counts = server->counts();
    out.viewers = counts.viewers;
    out.view_only_viewers = counts.view_only;
    out.total_connections = counts.total;
    out.bytes_to_viewers = server->bytes_sent();
    out.dropped_input_events = server->dropped_input();
    out.updates_encoded = server->updates_encoded();
    out.updates_shared = server->updates_shared();
  }
  out.bytes_from_upstream = bytes_from_upstream_;
  out.frames = frames_;
  out.hibernating = hibernating_;
  return out;
}

void Session::set_state(SessionState state) {
  std::lock_guard lock(info_mutex_);
  info_.state = state;
}

void Session::do_close() {
  if (!closed_) {
    closed_ = true;
    set_state(SessionState::closed);
    idle_timer_.cancel();
    if (link_) link_->close();
    if (server_) server_->close();
    if (live_text_) live_text_->close();
    spdlog::info("session {}: closed ({} viewer updates encoded, {} shared)", id_,
                 server_ ? server_->updates_encoded() : 0, server_ ? server_->updates_shared() : 0);
  }
  auto callbacks = std::move(on_closed_);
  on_closed_.clear();
  if (callbacks.empty()) return;
  // The recording is finalised on its own thread, never here: the callbacks run there once it is done.
  auto run_all = [callbacks = std::move(callbacks)] {
    for (auto& f : callbacks) f();
  };
  if (recording_)
    recording_->finish(std::move(run_all));
  else
    run_all();
}

// --- upstream ---------------------------------------------------------------------------------------------

void Session::link_connecting(int number, const std::shared_ptr<rfb::AsyncClient>& client) {
  auto& conn = client->connection();
  update_rects_.clear();
  conn.set_rect_observer(
      [this](rfb::Encoding encoding, const framebuffer::Rect& r, std::span<const std::uint8_t> payload) {
        constexpr std::size_t kMaxRects = 1024;  // beyond: the update's bounding box is dirty as a whole
        if (update_rects_.size() == kMaxRects) {
          update_rects_overflow_ = true;
          return;
        }
        if (encoding == rfb::Encoding::copy_rect && payload.size() == 4)
          update_rects_.push_back({r, true, payload[0] << 8 | payload[1], payload[2] << 8 | payload[3]});
        else
          update_rects_.push_back({r, false, 0, 0});
      });
  conn.set_tap([this](std::span<const std::uint8_t> bytes) { bytes_from_upstream_ += bytes.size(); });
  (void)number;
}

void Session::on_connected(const rfb::ServerInit& init) {
  {
    std::lock_guard lock(info_mutex_);
    info_.state = SessionState::connected;
    info_.upstream_connections = link_->connections();
  }
  spdlog::info("session {}: upstream {} connected, {}x{} '{}'", id_, options_.target_label, init.width, init.height,
               init.name);
  // The recording's tap replaces the byte counter above and counts too.
  if (recording_)
    recording_->record_connection(link_->connections(), *link_->connection(),
                                  [this](std::size_t n) { bytes_from_upstream_ += n; });
  if (width_ != init.width || height_ != init.height) on_resize(init.width, init.height);
}

void Session::link_closed(int number, bool was_up, const std::string& reason) {
  if (recording_) recording_->connection_closed(number);
  if (!was_up) return;
  set_state(SessionState::disconnected);
  spdlog::warn("session {}: upstream {} lost ({}); viewers keep the last frame", id_, options_.target_label, reason);
}

void Session::link_failed(std::exception_ptr why) {
  std::string reason = "connection ended";
  try {
    std::rethrow_exception(why);
  } catch (const std::exception& e) {
    reason = e.what();
  }
  spdlog::warn("session {}: cannot reach {} ({}); closing", id_, options_.target_label, reason);
  do_close();
}

void Session::on_resize(int width, int height) {
  if (width_ == width && height_ == height) return;
  width_ = width;
  height_ = height;
  update_rects_.clear();  // the whole new picture is dirty for every viewer
  update_rects_overflow_ = false;
  {
    std::lock_guard lock(info_mutex_);
    info_.width = width;
    info_.height = height;
  }
  server_->resized(width, height);
}

void Session::on_update(const framebuffer::Rect& damage) {
  const auto r = damage.intersect({0, 0, width_, height_});
  if (!r.empty()) active();
  ++frames_;
  auto& conn = *link_->connection();
  if (!have_picture_ && conn.frame_complete()) {
    have_picture_ = true;
    server_->open(width_, height_);
  }
  if (recording_ && conn.frame_complete()) recording_->frame(picture());
  if (live_text_ && conn.frame_complete() && live_text_->wanted()) live_text_->frame(picture());
  // Without copies the update's rectangles are merged once and handed to every viewer as one damage.
  const bool has_copy =
      std::any_of(update_rects_.begin(), update_rects_.end(), [](const UpstreamRect& u) { return u.copy; });
  if (update_rects_overflow_ || !has_copy) {
    framebuffer::Damage changed;
    if (update_rects_overflow_)
      changed.add(r);
    else
      for (const auto& u : update_rects_) changed.add(u.area);
    if (!changed.empty()) server_->changed(changed);
  } else {
    forward_copies();
  }
  update_rects_.clear();
  update_rects_overflow_ = false;
  server_->update_ready();
  want_updates();
}

// The update's rectangles in order. Consecutive copies by one offset where none reads what an earlier one
// wrote are one step (a scroll the server sent in pieces), so viewers can get it as those copies too.
void Session::forward_copies() {
  std::vector<framebuffer::Rect> step;
  for (std::size_t i = 0; i < update_rects_.size();) {
    const auto& first = update_rects_[i];
    if (!first.copy) {
      server_->changed(framebuffer::Damage(first.area));
      ++i;
      continue;
    }
    const int dx = first.area.x - first.src_x, dy = first.area.y - first.src_y;
    step.assign(1, first.area);
    for (++i; i < update_rects_.size(); ++i) {
      const auto& u = update_rects_[i];
      if (!u.copy || u.area.x - u.src_x != dx || u.area.y - u.src_y != dy) break;
      const framebuffer::Rect src = u.area.translated(-dx, -dy);
      if (std::any_of(step.begin(), step.end(), [&](const framebuffer::Rect& r) { return !r.intersect(src).empty(); }))
        break;
      step.push_back(u.area);
    }
    server_->moved(step, dx, dy);
  }
}

// Continuous incremental requests while anyone watches or records; an unchanged screen leaves the request
// outstanding at no cost.
void Session::want_updates() {
  auto* client = link_ ? link_->client() : nullptr;
  if (!client || closed_) return;
  auto& conn = client->connection();
  if (!conn.ready() || conn.update_pending()) return;
  if (server_->counts().viewers == 0 && !recording_ && !(live_text_ && live_text_->wanted())) return;
  conn.request_update(true);
  client->flush();
}

void Session::on_server_cut_text(const std::string& text) { server_->cut_text(text); }

void Session::on_bell() { server_->bell(); }

const framebuffer::PixelBuffer& Session::picture() { return link_->picture(); }

// Not while an upstream update is half applied: viewers get whole updates, and copies replay right.
bool Session::can_serve() const {
  const auto* conn = link_ ? link_->connection() : nullptr;
  return have_picture_ && (!conn || !conn->in_update());
}

void Session::active() {
  last_active_ = steady_clock::now();
  hibernating_ = false;
  if (!idle_armed_ && !closed_ && options_.hibernate_after.count() > 0)
    arm_idle(last_active_ + options_.hibernate_after);
}

// One timer per active session, none for a hibernating one: idle sessions cost no wake-ups.
void Session::arm_idle(steady_clock::time_point at) {
  idle_armed_ = true;
  idle_timer_.expires_at(at);
  idle_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    self->idle_armed_ = false;
    if (ec || self->closed_) return;
    const auto quiet_until = self->last_active_ + self->options_.hibernate_after;
    if (steady_clock::now() < quiet_until)
      self->arm_idle(quiet_until);
    else
      self->hibernate();
  });
}

void Session::hibernate() {
  server_->release();
  std::vector<UpstreamRect>().swap(update_rects_);
  link_->hibernate();
  hibernating_ = true;
  release_free_memory(strand_.get_inner_executor());
  spdlog::debug("session {}: idle, hibernating", id_);
}

// --- viewer input -----------------------------------------------------------------------------------------

rfb::ClientConnection* Session::upstream_ready() {
  auto* conn = link_ ? link_->connection() : nullptr;
  return conn && conn->ready() ? conn : nullptr;
}

void Session::key(int viewer, std::uint32_t keysym, std::uint32_t keycode, bool down, bool qemu) {
  auto* conn = upstream_ready();
  if (!conn) return;
  if (recording_ && options_.audit_keys)
    recording_->audit(nlohmann::json{
        {"t_ms", unix_now_ms()}, {"viewer", viewer}, {"event", "key"}, {"keysym", keysym}, {"down", down}}
                          .dump());
  if (!(qemu && conn->send_qemu_key(keysym, keycode, down))) conn->send_key(keysym, down);
  link_->client()->flush();
}

void Session::pointer(int viewer, int x, int y, std::uint8_t buttons, bool buttons_changed) {
  auto* conn = upstream_ready();
  if (!conn) return;
  // Button changes (clicks, wheel) are logged; plain motion would flood the log and says little.
  if (recording_ && buttons_changed)
    recording_->audit(nlohmann::json{
        {"t_ms", unix_now_ms()}, {"viewer", viewer}, {"event", "pointer"}, {"x", x}, {"y", y}, {"buttons", buttons}}
                          .dump());
  conn->send_pointer(x, y, buttons);
  link_->client()->flush();
}

void Session::cut_text(int viewer, const std::string& text) {
  auto* conn = upstream_ready();
  if (!conn) return;
  if (recording_) {
    nlohmann::json line{{"t_ms", unix_now_ms()}, {"viewer", viewer}, {"event", "clipboard"}, {"bytes", text.size()}};
    if (options_.audit_keys) line["text"] = std::string(text.begin(), text.end());  // Latin-1 kept as bytes
    recording_->audit(line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  conn->send_cut_text(text);
  link_->client()->flush();
}

void Session::viewer_left(int) {
  std::lock_guard lock(info_mutex_);
  info_.last_used_unix_ms = unix_now_ms();
}

void Session::desktop_size(int, int width, int height) {
  auto* conn = upstream_ready();
  if (conn && conn->send_set_desktop_size(width, height)) link_->client()->flush();
}

}  // namespace vncgate::gateway
