// SPDX-License-Identifier: Apache-2.0
#include "cli/play_command.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <memory>
#include <mutex>
#include <thread>

#include "cli/exit_codes.hpp"
#include "cli/listen.hpp"
#include "fbs/replay.hpp"
#include "io/byte_stream.hpp"
#include "rfb/async_server.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace vncgate::cli {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

struct PlayOptions {
  std::string input;
  std::string listen;
  double from_s = 0;
  double speed = 1;
  bool loop = false;
  bool no_checkpoints = false;
  std::string password_file;
};

// The screen being played, served to every viewer by an rfb::AsyncServer (each change encoded once for the
// viewers that want the same update); everything on the io thread.
class PlaybackServer : public rfb::PictureSource {
 public:
  PlaybackServer(asio::io_context& ctx, rfb::ServerOptions options)
      : server_(std::make_shared<rfb::AsyncServer>(ctx.get_executor(), std::move(options), *this, nullptr, "play")) {}
  ~PlaybackServer() override { server_->close(); }

  // A new picture from the replay (damage in its coordinates, or a resize).
  void show(framebuffer::PixelBuffer pixels, const framebuffer::Rect& damage, bool resized) {
    screen_ = std::move(pixels);
    if (!server_->opened())
      server_->open(screen_.width(), screen_.height());
    else if (resized)
      server_->resized(screen_.width(), screen_.height());
    else
      server_->changed(framebuffer::Damage(damage));
    server_->update_ready();
  }

  asio::awaitable<void> accept(tcp::acceptor& acceptor) {
    for (;;) {
      auto socket = co_await acceptor.async_accept(asio::use_awaitable);
      boost::system::error_code ec;
      const auto peer = socket.remote_endpoint(ec);
      const int id = server_->attach(io::adopt_tcp(std::move(socket)), false);
      spdlog::info("play: viewer {} from {}:{}", id, peer.address().to_string(), peer.port());
    }
  }

  const framebuffer::PixelBuffer& picture() override { return screen_; }
  bool can_serve() const override { return screen_.width() > 0; }

 private:
  framebuffer::PixelBuffer screen_;
  std::shared_ptr<rfb::AsyncServer> server_;
};

// Runs the replay on its own thread at real time x speed and posts each frame to the io thread. The first
// frame (the screen at --from) is handed over before viewers are accepted, so ServerInit has a size.
class ReplayThread {
 public:
  ReplayThread(const PlayOptions& options, asio::io_context& ctx, PlaybackServer& server)
      : options_(options), ctx_(ctx), server_(server) {}
  ~ReplayThread() { stop(); }

  // Starts replaying; returns once the first frame is ready (false: the recording has none).
  bool start() {
    thread_ = std::thread([this] { run(); });
    std::unique_lock lock(mutex_);
    wake_.wait(lock, [&] { return first_frame_ || finished_; });
    return first_frame_;
  }

  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run() {
    const auto from_ms = static_cast<std::uint32_t>(options_.from_s * 1000);
    do {
      const auto started = Clock::now();
      fbs::ReplayResult result;
      try {
        const auto replay =
            options_.no_checkpoints ? fbs::ReplayOptions{} : fbs::using_and_building_checkpoints(options_.input);
        result =
            fbs::Replay(fbs::Reader::open(options_.input), replay).run(from_ms, UINT32_MAX, [&](const fbs::Frame& f) {
              return deliver(f, started, from_ms);
            });
      } catch (const Error& e) {
        spdlog::error("play: {}", e.what());
        break;
      }
      if (result.stopped) break;
      if (!result.decode_error.empty())
        spdlog::warn("play: recording damaged, played up to there: {}", result.decode_error);
      else if (result.read.damaged())
        spdlog::warn("play: recording damaged, played up to there: {}", result.read.message);
      // The screen may stand still after the last frame (a quiet console): the recording ends at its last
      // timestamp, not at its last picture.
      if (!wait_until(due(result.last_ms, started, from_ms))) break;
      if (result.ok()) spdlog::info("play: end of recording at {:.3f} s", result.last_ms / 1000.0);
    } while (options_.loop && !stopping());
    std::lock_guard lock(mutex_);
    finished_ = true;
    wake_.notify_all();
  }

  bool stopping() {
    std::lock_guard lock(mutex_);
    return stopping_;
  }

  // When recording time `ms` is due in a replay started at `started` from `from_ms`; a time before from_ms
  // (the final frame of a start past the end) at once.
  Clock::time_point due(std::uint32_t ms, Clock::time_point started, std::uint32_t from_ms) const {
    const double late_ms = ms > from_ms ? ms - from_ms : 0.0;
    return started + std::chrono::microseconds(static_cast<long long>(late_ms * 1000.0 / options_.speed));
  }

  // false when stopped first.
  bool wait_until(Clock::time_point when) {
    std::unique_lock lock(mutex_);
    return !wake_.wait_until(lock, when, [&] { return stopping_; });
  }

  // Waits until the frame is due (or stop), then hands a copy to the io thread.
  bool deliver(const fbs::Frame& f, Clock::time_point started, std::uint32_t from_ms) {
    if (!wait_until(due(f.ms, started, from_ms))) return false;
    std::lock_guard lock(mutex_);
    asio::post(ctx_, [this, pixels = f.pixels, damage = f.damage, resized = f.resized || !first_frame_]() mutable {
      server_.show(std::move(pixels), damage, resized);
    });
    if (!first_frame_) {
      first_frame_ = true;
      wake_.notify_all();
    }
    return true;
  }

  const PlayOptions& options_;
  asio::io_context& ctx_;
  PlaybackServer& server_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool first_frame_ = false;
  bool finished_ = false;
};

int play(const PlayOptions& options) {
  if (!(options.speed > 0)) throw UsageError("--speed must be positive");
  if (options.from_s < 0) throw UsageError("--from must not be negative");
  const auto endpoint = parse_listen(options.listen);
  rfb::ServerOptions server_options;
  server_options.name = "vncgate play";
  if (!options.password_file.empty()) server_options.password = read_password(options.password_file);
  asio::io_context ctx;
  PlaybackServer server(ctx, server_options);
  ReplayThread replay(options, ctx, server);
  if (!replay.start()) throw ProtocolError(options.input + ": no picture to play");
  ctx.poll();     // the first frame reaches the server before any viewer does
  ctx.restart();  // poll() ran out of work and marked the context stopped
  tcp::acceptor acceptor(ctx);
  try {
    acceptor = tcp::acceptor(ctx, endpoint);
  } catch (const boost::system::system_error& e) {
    throw IoError("cannot listen on " + options.listen + ": " + e.code().message());
  }
  spdlog::info("play: serving {} on {}:{} (from {:.3f} s, speed {}x{})", options.input,
               acceptor.local_endpoint().address().to_string(), acceptor.local_endpoint().port(), options.from_s,
               options.speed, options.loop ? ", looping" : "");
  asio::signal_set signals(ctx, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (!ec) ctx.stop();
  });
  asio::co_spawn(ctx, server.accept(acceptor), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  ctx.run();
  replay.stop();
  return kOk;
}

}  // namespace

std::function<int()> add_play_command(CLI::App& app) {
  auto opts = std::make_shared<PlayOptions>();
  auto* cmd = app.add_subcommand("play", "serve an FBS recording to VNC viewers");
  cmd->add_option("input", opts->input, "FBS recording (FBS 001.001 or 001.000)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--listen", opts->listen, "address to listen on, HOST:PORT")->required();
  cmd->add_option("--from", opts->from_s, "start at this many seconds into the recording");
  cmd->add_option("--speed", opts->speed, "playback speed factor (2 = twice as fast)");
  cmd->add_flag("--loop", opts->loop, "start over at the end instead of holding the last frame");
  cmd->add_flag("--no-checkpoints", opts->no_checkpoints,
                "neither use nor write the checkpoint sidecar <input>.ckpt (--from then decodes from the start)");
  cmd->add_option("--password-file", opts->password_file,
                  "require VNC Authentication from viewers with the password in this file (default: none)");
  return [opts, cmd]() -> int {
    if (!cmd->parsed()) return -1;
    return play(*opts);
  };
}

}  // namespace vncgate::cli
