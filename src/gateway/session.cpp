// SPDX-License-Identifier: Apache-2.0
#include "gateway/session.hpp"

#include <malloc.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "fbs/writer.hpp"
#include "io/endpoint.hpp"
#include "record/recorder.hpp"
#include "rfb/async_client.hpp"
#include "rfb/server_connection.hpp"
#include "util/backoff.hpp"
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

std::string what_of(const std::exception_ptr& e) {
  try {
    if (e) std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  }
  return "connection ended";
}

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

struct Session::Upstream : rfb::ClientListener {
  Session& s;
  explicit Upstream(Session& session) : s(session) {}
  void on_connected(const rfb::ServerInit& init) override { s.upstream_connected(init); }
  void on_resize(int w, int h) override { s.upstream_resized(w, h); }
  void on_update(const framebuffer::Rect& damage) override { s.upstream_update(damage); }
  void on_bell() override { s.upstream_bell(); }
  void on_server_cut_text(const std::string& text) override { s.upstream_cut_text(text); }
};

struct Session::Viewer : rfb::ServerListener {
  Session& s;
  int id;
  bool view_only;
  std::unique_ptr<io::ByteStream> stream;
  std::unique_ptr<rfb::ServerConnection> conn;
  bool writing = false;
  bool gone = false;
  std::uint8_t buttons = 0;

  Viewer(Session& session, int viewer_id, bool only_view, std::unique_ptr<io::ByteStream> s_)
      : s(session), id(viewer_id), view_only(only_view), stream(std::move(s_)) {}
  void on_key(std::uint32_t keysym, bool down) override { s.input_key(*this, keysym, 0, down, false); }
  void on_qemu_key(std::uint32_t keysym, std::uint32_t keycode, bool down) override {
    s.input_key(*this, keysym, keycode, down, true);
  }
  void on_pointer(int x, int y, std::uint8_t b) override { s.input_pointer(*this, x, y, b); }
  void on_cut_text(const std::string& text) override { s.input_cut_text(*this, text); }
  void on_set_desktop_size(int w, int h) override { s.input_desktop_size(*this, w, h); }
};

Session::Session(asio::any_io_executor executor, std::string id, AcquireFn acquire, SessionOptions options)
    : strand_(asio::make_strand(std::move(executor))),
      id_(std::move(id)),
      acquire_(std::move(acquire)),
      options_(std::move(options)),
      upstream_(std::make_unique<Upstream>(*this)),
      idle_timer_(strand_),
      first_picture_(strand_, steady_clock::time_point::max()),
      backoff_timer_(strand_) {
  options_.upstream.encodings = without_cursor(options_.upstream.encodings);
  info_.id = id_;
  info_.target_label = options_.target_label;
  info_.created_unix_ms = info_.last_used_unix_ms = unix_now_ms();
  info_.recording = !options_.record_dir.empty();
}

Session::~Session() {
  if (mp4_) mp4_->cancel();
  if (mp4_thread_.joinable()) mp4_thread_.join();
}

void Session::start() {
  if (!options_.record_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options_.record_dir, ec);
    if (ec) throw IoError("cannot create the recording directory " + options_.record_dir + ": " + ec.message());
    const auto path = options_.record_dir + "/audit.jsonl";
    audit_.reset(std::fopen(path.c_str(), "a"));
    if (!audit_) throw IoError("cannot open the audit log " + path);
    if (options_.mp4) start_mp4();
  }
  asio::co_spawn(strand_, run_upstream(), asio::detached);
}

// MP4 through the recorder's encoder path, fed with the session's own picture (no second connection).
void Session::start_mp4() {
  record::RecordOptions ro;
  ro.output_dir = options_.record_dir;
  ro.name_pattern = "video-{n}";
  ro.duration_ms = options_.segment_ms;
  ro.count = 1'000'000;  // a live session ends when it is closed
  ro.encoder = options_.encoder;
  ro.target_label = options_.target_label;
  ro.first_frame_timeout = hours(24 * 365);  // the upstream may take its time
  mp4_ = std::make_unique<record::Recorder>(std::move(ro));
  mp4_thread_ = std::thread([recorder = mp4_.get(), id = id_] {
    try {
      recorder->run();
    } catch (const std::exception& e) {
      spdlog::error("session {}: MP4 recording stopped: {}", id, e.what());
    }
  });
}

void Session::attach(std::unique_ptr<io::ByteStream> viewer, bool view_only) {
  asio::post(strand_, [self = shared_from_this(), stream = std::move(viewer), view_only]() mutable {
    auto& s = *self;
    if (s.closed_) return stream->close();
    auto v = std::make_shared<Viewer>(s, s.next_viewer_++, view_only, std::move(stream));
    s.viewers_.emplace(v->id, v);
    {
      std::lock_guard lock(s.info_mutex_);
      ++s.info_.total_connections;
      ++s.info_.viewers;
      if (view_only) ++s.info_.view_only_viewers;
      s.info_.last_used_unix_ms = unix_now_ms();
    }
    spdlog::info("session {}: viewer {} attached{}", s.id_, v->id, view_only ? " (view-only)" : "");
    asio::co_spawn(s.strand_, s.serve_viewer(v), asio::detached);
    s.want_updates();
  });
}

void Session::close(std::function<void()> done) {
  asio::post(strand_, [self = shared_from_this(), done = std::move(done)] {
    if (done) self->on_closed_.push_back(done);
    self->do_close();
  });
}

SessionInfo Session::info() const {
  std::lock_guard lock(info_mutex_);
  SessionInfo out = info_;
  out.bytes_to_viewers = bytes_to_viewers_;
  out.bytes_from_upstream = bytes_from_upstream_;
  out.frames = frames_;
  out.dropped_input_events = dropped_;
  out.updates_encoded = updates_encoded_;
  out.updates_shared = updates_shared_;
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
    if (client_) client_->close();
    backoff_timer_.cancel();
    first_picture_.cancel();
    idle_timer_.cancel();
    for (auto& [id, v] : viewers_) v->stream->close();  // their coroutines drop them
    if (fbs_) fbs_->close();
    fbs_.reset();
    audit_.reset();
    if (mp4_) mp4_->cancel();
    if (mp4_thread_.joinable()) mp4_thread_.join();  // the open segment is finalised
    spdlog::info("session {}: closed ({} viewer updates encoded, {} shared)", id_, updates_encoded_.load(),
                 updates_shared_.load());
  }
  auto callbacks = std::move(on_closed_);
  for (auto& f : callbacks) f();
}

// --- upstream ---------------------------------------------------------------------------------------------

asio::awaitable<void> Session::run_upstream() {
  auto self = shared_from_this();
  Backoff backoff;
  while (!closed_) {
    std::exception_ptr error;
    try {
      auto console = co_await acquire_(options_.target);
      if (closed_) break;
      auto client_options = options_.upstream;
      client_options.password = console.password;
      if (options_.raw_on_loopback && on_loopback(console.endpoint.url))
        client_options.encodings = raw_only(client_options.encodings);
      client_ = std::make_shared<rfb::AsyncClient>(strand_, std::move(client_options), upstream_.get());
      client_->connection().adopt_framebuffer(std::move(held_));  // repainted in place, not from black
      ++connection_;
      co_await client_->run(console.endpoint);
    } catch (...) {
      error = std::current_exception();
    }
    const bool was_up = client_ && client_->connection().ready();
    if (client_) client_->close();
    // Let the cancelled writer unwind before the client (and its stream) goes away.
    asio::steady_timer settle(strand_, milliseconds(1));
    co_await settle.async_wait(asio::as_tuple(asio::use_awaitable));
    if (client_) held_ = client_->connection().take_framebuffer();
    client_.reset();
    if (fbs_) fbs_->close();
    fbs_.reset();
    if (closed_) break;
    const auto reason = what_of(error);
    if (was_up) {
      backoff.reset();
      set_state(SessionState::disconnected);
      spdlog::warn("session {}: upstream {} lost ({}); reconnecting, viewers keep the last frame", id_,
                   options_.target_label, reason);
    } else {
      spdlog::warn("session {}: cannot reach {} ({}); retrying", id_, options_.target_label, reason);
    }
    backoff_timer_.expires_after(backoff.next());
    co_await backoff_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

void Session::upstream_connected(const rfb::ServerInit& init) {
  auto& conn = client_->connection();
  {
    std::lock_guard lock(info_mutex_);
    info_.state = SessionState::connected;
    info_.upstream_connections = connection_;
  }
  spdlog::info("session {}: upstream {} connected, {}x{} '{}'", id_, options_.target_label, init.width, init.height,
               init.name);
  std::function<void(std::span<const std::uint8_t>)> record;
  if (!options_.record_dir.empty()) {
    // One FBS file per upstream connection: each restarts the RFB stream and its zlib state.
    std::string path = options_.record_dir + "/recording";
    if (connection_ > 1) path += "-" + std::to_string(connection_);
    path += ".fbs";
    try {
      fbs_ = std::make_unique<fbs::Writer>(path, init, conn.converter().format());
      const auto opened = steady_clock::now();
      record = fbs_->tap_for(conn, [opened] {
        return static_cast<std::uint32_t>(duration_cast<milliseconds>(steady_clock::now() - opened).count());
      });
    } catch (const Error& e) {
      spdlog::error("session {}: recording off for this connection: {}", id_, e.what());
    }
  }
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
  conn.set_tap([this, record = std::move(record)](std::span<const std::uint8_t> bytes) {
    bytes_from_upstream_ += bytes.size();
    if (record) record(bytes);
  });
  if (width_ != init.width || height_ != init.height) upstream_resized(init.width, init.height);
}

void Session::upstream_resized(int width, int height) {
  if (width_ == width && height_ == height) return;
  width_ = width;
  height_ = height;
  encodings_.picture_changed();  // drops the encodings of the old size
  update_rects_.clear();         // the whole new picture is dirty for every viewer
  update_rects_overflow_ = false;
  {
    std::lock_guard lock(info_mutex_);
    info_.width = width;
    info_.height = height;
  }
  for (auto& [id, v] : viewers_)
    if (v->conn) v->conn->framebuffer_resized(width, height);
}

void Session::upstream_update(const framebuffer::Rect& damage) {
  const auto r = damage.intersect({0, 0, width_, height_});
  if (!r.empty()) {
    encodings_.picture_changed();
    active();
  }
  ++frames_;
  if (!have_picture_ && client_->connection().frame_complete()) {
    have_picture_ = true;
    first_picture_.cancel();  // waiting viewers are greeted now, with a whole picture rather than black
  }
  if (mp4_ && client_->connection().frame_complete()) mp4_->slot().publish(picture(), mp4_->clock().start_or_now());
  // Without copies the update's rectangles are merged once and handed to every viewer as one damage.
  const bool has_copy =
      std::any_of(update_rects_.begin(), update_rects_.end(), [](const UpstreamRect& u) { return u.copy; });
  framebuffer::Damage changed;
  if (update_rects_overflow_)
    changed.add(r);
  else if (!has_copy)
    for (const auto& u : update_rects_) changed.add(u.area);
  for (auto& [id, v] : viewers_) {
    if (!v->conn) continue;
    if (update_rects_overflow_ || !has_copy) {
      v->conn->framebuffer_changed(changed);
    } else {
      for (const auto& u : update_rects_) {
        if (u.copy)
          v->conn->framebuffer_copied(u.area, u.src_x, u.src_y);
        else
          v->conn->framebuffer_changed(u.area);
      }
    }
    kick(v);
  }
  update_rects_.clear();
  update_rects_overflow_ = false;
  want_updates();
}

// Continuous incremental requests while anyone watches or records; an unchanged screen leaves the request
// outstanding at no cost.
void Session::want_updates() {
  if (!client_ || closed_) return;
  auto& conn = client_->connection();
  if (!conn.ready() || conn.update_pending()) return;
  if (viewers_.empty() && !fbs_ && !mp4_) return;
  conn.request_update(true);
  client_->flush();
}

const framebuffer::PixelBuffer& Session::picture() {
  if (client_) {
    auto& conn = client_->connection();
    if (conn.hibernating()) conn.wake();
    return conn.framebuffer();
  }
  if (held_.compacted()) held_.expand();
  return held_;
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
  encodings_.release();
  std::vector<UpstreamRect>().swap(update_rects_);
  if (client_)
    client_->connection().hibernate();
  else
    held_.compact();
  hibernating_ = true;
  release_free_memory(strand_.get_inner_executor());
  spdlog::debug("session {}: idle, hibernating", id_);
}

void Session::upstream_cut_text(const std::string& text) {
  for (auto& [id, v] : viewers_) {
    if (!v->conn) continue;
    v->conn->send_cut_text(text);
    kick(v);
  }
}

void Session::upstream_bell() {
  for (auto& [id, v] : viewers_) {
    if (!v->conn) continue;
    v->conn->send_bell();
    kick(v);
  }
}

// --- viewers ----------------------------------------------------------------------------------------------

asio::awaitable<void> Session::serve_viewer(std::shared_ptr<Viewer> v) {
  auto self = shared_from_this();
  std::string why = "left";
  try {
    if (!have_picture_ && !closed_) co_await first_picture_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (closed_ || v->gone) throw IoError("session closed");
    rfb::ServerOptions server;
    server.password = options_.viewer_password;
    server.name = options_.target_label;
    v->conn = std::make_unique<rfb::ServerConnection>(std::move(server), width_, height_, v.get());
    kick(v);
    // Viewers send small messages (input, requests): a small buffer keeps an idle viewer cheap.
    std::vector<std::uint8_t> buffer(2048);
    while (!v->gone) {
      const auto n = co_await v->stream->read_some(asio::buffer(buffer));
      if (v->gone) break;
      v->conn->feed({buffer.data(), n});
      kick(v);
    }
  } catch (const ProtocolError& e) {
    why = std::string("dropped for malformed RFB: ") + e.what();
  } catch (const std::exception& e) {
    why = e.what();
  }
  drop(v, why);
}

void Session::kick(const std::shared_ptr<Viewer>& v) {
  if (v->writing || v->gone || !v->conn) return;
  if (!v->conn->has_output() && !v->conn->update_requested() && !v->conn->closed()) return;
  v->writing = true;
  asio::co_spawn(strand_, write_viewer(v), asio::detached);
}

// Writes what the viewer's connection queued, then answers its pending request from the current picture.
// Only one update is built at a time per viewer: memory stays bounded and damage accumulates meanwhile.
asio::awaitable<void> Session::write_viewer(std::shared_ptr<Viewer> v) {
  auto self = shared_from_this();
  try {
    while (!v->gone) {
      if (!v->conn->has_output()) {
        // Not while an upstream update is half applied: viewers get whole updates, and copies replay right.
        const bool between_updates = !client_ || !client_->connection().in_update();
        const auto plan = width_ == 0 || !between_updates ? std::nullopt : v->conn->plan_update();
        if (!plan) break;
        const auto encoded_before = encodings_.encoded();
        const auto pixels = encodings_.get(*plan, [this]() -> const framebuffer::PixelBuffer& { return picture(); });
        if (encodings_.encoded() != encoded_before) active();
        updates_encoded_ = encodings_.encoded();
        updates_shared_ = encodings_.shared();
        v->conn->send_update(*plan, pixels.get());
      }
      const auto bytes = v->conn->take_output();
      co_await v->stream->write(asio::buffer(bytes));
      bytes_to_viewers_ += bytes.size();
    }
  } catch (const std::exception& e) {
    v->writing = false;
    drop(v, e.what());
    co_return;
  }
  v->writing = false;
  if (v->conn->closed()) drop(v, v->conn->close_reason());
}

void Session::drop(const std::shared_ptr<Viewer>& v, const std::string& why) {
  if (v->gone) return;
  v->gone = true;
  v->stream->close();
  viewers_.erase(v->id);
  {
    std::lock_guard lock(info_mutex_);
    --info_.viewers;
    if (v->view_only) --info_.view_only_viewers;
    info_.last_used_unix_ms = unix_now_ms();
  }
  spdlog::info("session {}: viewer {} gone: {}", id_, v->id, why);
}

bool Session::allow_input(Viewer& v) {
  if (v.view_only) {
    ++dropped_;
    return false;
  }
  return client_ && client_->connection().ready();
}

void Session::audit(const std::string& json_line) {
  if (!audit_) return;
  std::fputs(json_line.c_str(), audit_.get());
  std::fputc('\n', audit_.get());
  std::fflush(audit_.get());
}

void Session::input_key(Viewer& v, std::uint32_t keysym, std::uint32_t keycode, bool down, bool qemu) {
  if (!allow_input(v)) return;
  if (options_.audit_keys)
    audit(
        nlohmann::json{{"t_ms", unix_now_ms()}, {"viewer", v.id}, {"event", "key"}, {"keysym", keysym}, {"down", down}}
            .dump());
  auto& conn = client_->connection();
  if (!(qemu && conn.send_qemu_key(keysym, keycode, down))) conn.send_key(keysym, down);
  client_->flush();
}

void Session::input_pointer(Viewer& v, int x, int y, std::uint8_t buttons) {
  if (!allow_input(v)) return;
  // Button changes (clicks, wheel) are logged; plain motion would flood the log and says little.
  if (buttons != v.buttons)
    audit(nlohmann::json{
        {"t_ms", unix_now_ms()}, {"viewer", v.id}, {"event", "pointer"}, {"x", x}, {"y", y}, {"buttons", buttons}}
              .dump());
  v.buttons = buttons;
  client_->connection().send_pointer(x, y, buttons);
  client_->flush();
}

void Session::input_cut_text(Viewer& v, const std::string& text) {
  if (!allow_input(v)) return;
  nlohmann::json line{{"t_ms", unix_now_ms()}, {"viewer", v.id}, {"event", "clipboard"}, {"bytes", text.size()}};
  if (options_.audit_keys) line["text"] = std::string(text.begin(), text.end());  // Latin-1 kept as bytes
  audit(line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  client_->connection().send_cut_text(text);
  client_->flush();
}

void Session::input_desktop_size(Viewer& v, int width, int height) {
  if (!allow_input(v)) return;
  if (client_->connection().send_set_desktop_size(width, height)) client_->flush();
}

}  // namespace vncgate::gateway
