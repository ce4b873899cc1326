// SPDX-License-Identifier: Apache-2.0
#include "cli/proxy_command.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <chrono>
#include <memory>
#include <optional>

#include "cli/encoder_options.hpp"
#include "cli/exit_codes.hpp"
#include "cli/listen.hpp"
#include "cli/target_options.hpp"
#include "gateway/session.hpp"
#include "io/websocket_accept.hpp"
#include "providers/target.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace vncgate::cli {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;
using namespace std::chrono_literals;

struct ProxyOptions {
  TargetOptions target;
  std::string listen = "127.0.0.1:5900";
  std::string ws;
  std::string record_dir;
  bool view_only = false;
  bool audit_keys = false;
  std::string viewer_password_file;
  std::vector<std::string> origins;
  EncoderOptions encoder;
  bool no_mp4 = false;
  double segment_s = 600;
};

tcp::acceptor listen_on(asio::io_context& ctx, const tcp::endpoint& endpoint, const std::string& text) {
  try {
    return tcp::acceptor(ctx, endpoint);
  } catch (const boost::system::system_error& e) {
    throw IoError("cannot listen on " + text + ": " + e.code().message());
  }
}

asio::awaitable<void> accept_rfb(tcp::acceptor& acceptor, std::shared_ptr<gateway::Session> session, bool view_only) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) continue;  // e.g. the peer reset before accept; keep serving
    session->attach(io::adopt_tcp(std::move(socket)), view_only);
  }
}

// Reads the upgrade request (10 s at most), then hands the WebSocket to the session.
asio::awaitable<void> upgrade(tcp::socket socket, std::shared_ptr<gateway::Session> session,
                              io::WsAcceptOptions options, bool view_only) {
  try {
    asio::steady_timer deadline(socket.get_executor(), 10s);
    deadline.async_wait([&socket](const boost::system::error_code& ec) {
      if (!ec) socket.close();
    });
    boost::beast::flat_buffer buffer;
    http::request<http::string_body> request;
    auto [ec, n] = co_await http::async_read(socket, buffer, request, asio::as_tuple(asio::use_awaitable));
    deadline.cancel();
    if (ec) throw IoError("WebSocket viewer: reading the upgrade request: " + ec.message());
    session->attach(co_await io::accept_websocket(std::move(socket), request, options), view_only);
  } catch (const std::exception& e) {
    spdlog::warn("proxy: {}", e.what());
  }
}

asio::awaitable<void> accept_ws(tcp::acceptor& acceptor, std::shared_ptr<gateway::Session> session,
                                io::WsAcceptOptions options, bool view_only) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) continue;
    asio::co_spawn(acceptor.get_executor(), upgrade(std::move(socket), session, options, view_only), asio::detached);
  }
}

int proxy(ProxyOptions& o) {
  const auto rfb_endpoint = parse_listen(o.listen, "--listen");
  std::optional<tcp::endpoint> ws_endpoint;
  if (!o.ws.empty()) ws_endpoint = parse_listen(o.ws, "--ws");
  std::string error;
  if (!providers::parse_target(o.target.target, &error))
    throw UsageError("bad target '" + io::redact_url(o.target.target) + "': " + error);

  gateway::SessionOptions so;
  so.target = o.target.target;
  so.target_label = io::redact_url(o.target.target);
  so.upstream = o.target.client_options("");
  so.raw_on_loopback = o.target.encodings.empty();  // --encodings is the user's word
  so.record_dir = o.record_dir;
  so.audit_keys = o.audit_keys;
  so.mp4 = !o.no_mp4;
  so.encoder = o.encoder.resolve();
  so.segment_ms = static_cast<std::int64_t>(o.segment_s * 1000);
  if (!o.viewer_password_file.empty()) {
    so.viewer_password = read_password(o.viewer_password_file);
  } else if (!rfb_endpoint.address().is_loopback() || (ws_endpoint && !ws_endpoint->address().is_loopback())) {
    // Anyone on the network could otherwise drive the console.
    throw UsageError("listening beyond loopback needs --viewer-password-file");
  }

  asio::io_context ctx;
  // Provider look-ups are blocking here; one session, so a slow cloud API only delays its own reconnect.
  auto acquire = std::make_shared<const gateway::AcquireFn>(
      [&o](const std::string&) -> asio::awaitable<providers::ConsoleEndpoint> { co_return o.target.acquire(); });
  auto session = std::make_shared<gateway::Session>(ctx.get_executor(), "proxy", acquire, so);
  auto rfb_acceptor = listen_on(ctx, rfb_endpoint, o.listen);
  std::optional<tcp::acceptor> ws_acceptor;
  if (ws_endpoint) ws_acceptor.emplace(listen_on(ctx, *ws_endpoint, o.ws));
  session->start();
  asio::co_spawn(ctx, accept_rfb(rfb_acceptor, session, o.view_only), asio::detached);
  spdlog::info("proxy: {} on {}:{} (RFB){}", so.target_label, rfb_acceptor.local_endpoint().address().to_string(),
               rfb_acceptor.local_endpoint().port(), o.view_only ? ", view-only" : "");
  if (ws_acceptor) {
    io::WsAcceptOptions ws_options;
    ws_options.allowed_origins = o.origins;
    asio::co_spawn(ctx, accept_ws(*ws_acceptor, session, ws_options, o.view_only), asio::detached);
    spdlog::info("proxy: WebSocket viewers on {}:{}", ws_acceptor->local_endpoint().address().to_string(),
                 ws_acceptor->local_endpoint().port());
  }

  // The session's recording is finalised on a thread of its own after close(): ctx must outlive that.
  auto work = asio::make_work_guard(ctx);
  asio::signal_set signals(ctx, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    spdlog::info("proxy: shutting down");
    boost::system::error_code ignored;
    rfb_acceptor.close(ignored);
    if (ws_acceptor) ws_acceptor->close(ignored);
    session->close([&ctx, &work] {  // once the recording is finalised
      asio::post(ctx, [&ctx, &work] {
        work.reset();
        ctx.stop();
      });
    });
  });
  ctx.run();
  const auto info = session->info();
  spdlog::info("proxy: {} viewers served, {} frames, {} bytes from upstream, {} bytes to viewers",
               info.total_connections, info.frames, info.bytes_from_upstream, info.bytes_to_viewers);
  return kOk;
}

}  // namespace

std::function<int()> add_proxy_command(CLI::App& app) {
  auto options = std::make_shared<ProxyOptions>();
  auto* cmd = app.add_subcommand("proxy", "serve one live console to any number of VNC and noVNC viewers");
  options->target.add_to(*cmd);
  // TargetOptions takes TARGET as a positional; here it is a flag, as the other listen options are.
  cmd->remove_option(cmd->get_option("target"));
  cmd->add_option("--target", options->target.target, "console to proxy (same forms as `vncgate snapshot`)")
      ->required();
  cmd->add_option("--listen", options->listen, "HOST:PORT for RFB viewers")->capture_default_str();
  cmd->add_option("--ws", options->ws, "HOST:PORT for WebSocket (noVNC) viewers");
  cmd->add_option("--origin", options->origins,
                  "allowed WebSocket Origin, exact scheme://host[:port] (repeatable; default: any)");
  cmd->add_option("--record", options->record_dir,
                  "record the session here: recording.fbs, video-NNN.mp4 (+ .json) segments, audit.jsonl");
  cmd->add_flag("--no-mp4", options->no_mp4, "with --record: FBS and audit log only");
  cmd->add_option("--segment", options->segment_s, "with --record: MP4 segment length in seconds")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  options->encoder.add_to(*cmd);
  cmd->add_flag("--view-only", options->view_only, "drop every viewer's keyboard, pointer and clipboard input");
  cmd->add_flag("--audit-keys", options->audit_keys, "with --record: log keystrokes in audit.jsonl too");
  cmd->add_option("--viewer-password-file", options->viewer_password_file,
                  "VNC password viewers must give (required when listening beyond loopback)");
  return [cmd, options]() -> int {
    if (!cmd->parsed()) return -1;
    return proxy(*options);
  };
}

}  // namespace vncgate::cli
