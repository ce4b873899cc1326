// SPDX-License-Identifier: Apache-2.0
#include "rfb/async_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "io/stream_writer.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace vncgate::rfb {

namespace asio = boost::asio;

// A viewer holds the server and the server's owner while it is served (its reader and writer hold the viewer):
// the viewer is dropped from `viewers_` when it ends, which ends that cycle.
struct AsyncServer::Viewer : ServerListener, std::enable_shared_from_this<Viewer> {
  std::shared_ptr<AsyncServer> keep_server;
  std::shared_ptr<void> keep_owner;
  AsyncServer& server;
  int id;
  bool view_only;
  std::unique_ptr<io::ByteStream> stream;
  std::unique_ptr<ServerConnection> conn;
  io::StreamWriter writer;
  asio::steady_timer handshake_deadline;
  bool gone = false;
  std::uint8_t buttons = 0;
  std::unique_ptr<ViewerEncoders> own_encoders;  // while it is the only viewer (AsyncServer::encode)
  bool sent_pixels = false;                      // its first frame is behind it

  Viewer(std::shared_ptr<AsyncServer> s, std::shared_ptr<void> owner, int number, bool only_view,
         std::unique_ptr<io::ByteStream> bytes)
      : keep_server(std::move(s)),
        keep_owner(std::move(owner)),
        server(*keep_server),
        id(number),
        view_only(only_view),
        stream(std::move(bytes)),
        writer([this] { return server.next_output(*this); },
               [this](std::exception_ptr e) { server.drop(shared_from_this(), reason(e)); }),
        handshake_deadline(server.strand_) {}

  static std::string reason(const std::exception_ptr& e) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      return ex.what();
    }
    return "write failed";
  }

  // ServerListener: from the viewer's feed(), on the strand.
  void on_key(std::uint32_t keysym, bool down) override {
    server.input_allowed(*this, [&] { server.input_->key(id, keysym, 0, down, false); });
  }
  void on_qemu_key(std::uint32_t keysym, std::uint32_t keycode, bool down) override {
    server.input_allowed(*this, [&] { server.input_->key(id, keysym, keycode, down, true); });
  }
  void on_pointer(int x, int y, std::uint8_t b) override {
    const bool changed = b != buttons;
    buttons = b;
    server.input_allowed(*this, [&] { server.input_->pointer(id, x, y, b, changed); });
  }
  void on_cut_text(const std::string& text) override {
    server.input_allowed(*this, [&] { server.input_->cut_text(id, text); });
  }
  void on_set_desktop_size(int w, int h) override {
    server.input_allowed(*this, [&] { server.input_->desktop_size(id, w, h); });
  }
};

AsyncServer::AsyncServer(asio::any_io_executor strand, ServerOptions options, PictureSource& source,
                         ViewerEvents* input, std::string log_name)
    : strand_(std::move(strand)),
      options_(std::move(options)),
      source_(source),
      input_(input),
      log_name_(std::move(log_name)),
      opened_timer_(strand_, std::chrono::steady_clock::time_point::max()) {}

AsyncServer::~AsyncServer() = default;

int AsyncServer::attach(std::unique_ptr<io::ByteStream> stream, bool view_only, std::shared_ptr<void> owner) {
  const int id = next_viewer_++;
  if (closed_) {
    stream->close();
    return id;
  }
  auto v = std::make_shared<Viewer>(shared_from_this(), std::move(owner), id, view_only, std::move(stream));
  viewers_[id] = v;
  {
    std::lock_guard lock(counts_mutex_);
    ++counts_.viewers;
    ++counts_.total;
    if (view_only) ++counts_.view_only;
  }
  auto served = serve(v);
  asio::co_spawn(strand_, std::move(served), asio::detached);
  return id;
}

void AsyncServer::open(int width, int height) {
  width_ = width;
  height_ = height;
  opened_ = true;
  opened_timer_.cancel();  // waiting viewers are greeted now, with a whole picture rather than black
}

asio::awaitable<void> AsyncServer::serve(std::shared_ptr<Viewer> v) {
  std::string why = "left";
  try {
    if (!opened_ && !closed_) co_await opened_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (closed_ || v->gone) throw IoError("closed");
    v->conn = std::make_unique<ServerConnection>(options_, width_, height_, v.get());
    expect_handshake(v);
    kick(v);
    // Viewers send small messages (input, requests): a small buffer keeps an idle viewer cheap.
    std::vector<std::uint8_t> buffer(2048);
    while (!v->gone) {
      const auto n = co_await v->stream->read_some(asio::buffer(buffer));
      if (v->gone) break;
      v->conn->feed({buffer.data(), n});
      if (v->conn->ready()) v->handshake_deadline.cancel();
      kick(v);
    }
  } catch (const ProtocolError& e) {
    why = std::string("dropped for malformed RFB: ") + e.what();
  } catch (const std::exception& e) {
    why = e.what();
  }
  drop(v, why);
}

// A viewer that has not sent ClientInit in time is dropped. The timer holds the viewer weakly: a viewer that
// leaves earlier is not kept alive by it.
void AsyncServer::expect_handshake(const std::shared_ptr<Viewer>& v) {
  v->handshake_deadline.expires_after(options_.handshake_timeout);
  v->handshake_deadline.async_wait([weak = std::weak_ptr<Viewer>(v)](const boost::system::error_code& ec) {
    const auto viewer = weak.lock();
    if (ec || !viewer || viewer->gone || viewer->conn->ready()) return;
    viewer->server.drop(
        viewer, fmt::format("no RFB handshake within {} ms", viewer->server.options_.handshake_timeout.count()));
  });
}

void AsyncServer::kick(const std::shared_ptr<Viewer>& v) {
  if (v->gone || !v->conn || v->writer.writing()) return;
  if (!v->conn->has_output() && !v->conn->update_requested() && !v->conn->closed()) return;
  v->writer.kick(strand_, *v->stream, v);
}

// The viewer's next bytes: what its connection queued, else its pending request answered from the picture.
// Only one update is built at a time per viewer: memory stays bounded and damage accumulates meanwhile.
io::Output AsyncServer::next_output(Viewer& v) {
  if (v.gone) return {};
  if (!v.conn->has_output()) {
    // Not while a change is half applied: viewers get whole updates, and copies replay right.
    const auto plan = width_ == 0 || !source_.can_serve() ? std::nullopt : v.conn->plan_update();
    if (plan) v.conn->send_update(*plan, encode(v, *plan));
  }
  auto out = v.conn->take_output_pieces();
  bytes_sent_ += out.size();
  if (out.empty() && v.conn->closed()) drop(v.shared_from_this(), v.conn->close_reason());
  return out;
}

// A viewer alone gets its pixels from its own encoders after its first frame, whose zlib streams keep their
// history (a scrolling terminal's new line refers back to the lines before it: half the bytes); viewers together,
// and first frames (viewers joining at once share them; a console that stays still makes no streams), share
// encodings made without history (SharedEncodings). Switching either way is safe: data made without
// history is valid in any stream, and a viewer's own encoders are dropped as soon as it is sent anything else, so
// their history is always what its inflaters read. Dropped on release() too (an idle session keeps no streams).
std::shared_ptr<const EncodedPixels> AsyncServer::encode(Viewer& v, const UpdatePlan& plan) {
  const bool alone = v.sent_pixels && viewers_.size() == 1 && ViewerEncoders::keep_history(plan.params.encoding);
  if (!alone) v.own_encoders.reset();
  if (!plan.pixels.empty()) v.sent_pixels = true;
  const auto encoded_before = encodings_.encoded() + own_encoded_;
  std::shared_ptr<const EncodedPixels> pixels;
  if (alone && !plan.pixels.empty()) {
    if (!v.own_encoders) v.own_encoders = std::make_unique<ViewerEncoders>();
    pixels = std::make_shared<const EncodedPixels>(
        v.own_encoders->encode(source_.picture(), plan.pixels.rects(), plan.params));
    ++own_encoded_;
  } else {
    pixels = encodings_.get(plan, [this]() -> const framebuffer::PixelBuffer& { return source_.picture(); });
  }
  if (encodings_.encoded() + own_encoded_ != encoded_before) source_.served();
  updates_encoded_ = encodings_.encoded() + own_encoded_;
  updates_shared_ = encodings_.shared();
  return pixels;
}

void AsyncServer::drop(const std::shared_ptr<Viewer>& v, const std::string& why) {
  if (v->gone) return;
  v->gone = true;
  v->handshake_deadline.cancel();
  v->stream->close();
  viewers_.erase(v->id);  // the viewer lives on in its reader and writer until they end
  {
    std::lock_guard lock(counts_mutex_);
    --counts_.viewers;
    if (v->view_only) --counts_.view_only;
  }
  spdlog::info("{}: viewer {} gone: {}", log_name_, v->id, why);
  if (input_) input_->viewer_left(v->id);
}

void AsyncServer::input_allowed(Viewer& v, const std::function<void()>& forward) {
  if (v.view_only) {
    ++dropped_input_;
    return;
  }
  if (input_) forward();
}

void AsyncServer::changed(const framebuffer::Damage& damage) {
  encodings_.picture_changed();
  for (auto& [id, v] : viewers_)
    if (v->conn) v->conn->framebuffer_changed(damage);
}

void AsyncServer::moved(std::span<const framebuffer::Rect> dsts, int dx, int dy) {
  encodings_.picture_changed();
  for (auto& [id, v] : viewers_)
    if (v->conn) v->conn->framebuffer_moved(dsts, dx, dy);
}

void AsyncServer::resized(int width, int height) {
  width_ = width;
  height_ = height;
  encodings_.picture_changed();  // drops the encodings of the old size
  for (auto& [id, v] : viewers_)
    if (v->conn) v->conn->framebuffer_resized(width, height);
}

void AsyncServer::bell() {
  for (auto& [id, v] : viewers_)
    if (v->conn) v->conn->send_bell();
  update_ready();
}

void AsyncServer::cut_text(const std::string& latin1) {
  for (auto& [id, v] : viewers_)
    if (v->conn) v->conn->send_cut_text(latin1);
  update_ready();
}

void AsyncServer::update_ready() {
  // A copy: kicking may drop a viewer whose connection closed.
  const auto viewers = viewers_;
  for (const auto& [id, v] : viewers) kick(v);
}

void AsyncServer::release() {
  encodings_.release();
  for (auto& [id, v] : viewers_) v->own_encoders.reset();
}

void AsyncServer::close() {
  closed_ = true;
  opened_timer_.cancel();
  for (auto& [id, v] : viewers_) v->stream->close();  // their coroutines drop them
}

ViewerCounts AsyncServer::counts() const {
  std::lock_guard lock(counts_mutex_);
  return counts_;
}

}  // namespace vncgate::rfb
