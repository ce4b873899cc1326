// SPDX-License-Identifier: Apache-2.0
// Internal to vncgate_io: pieces shared by the TCP, TLS and WebSocket transports. Not for other modules.
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/asio/ssl/verify_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "io/byte_stream.hpp"
#include "io/endpoint.hpp"

namespace vncgate::io::detail {

using tcp = asio::ip::tcp;
using boost::system::error_code;

// Throws the exception the ByteStream contract promises for a failed operation: EndOfStream for a clean close
// by the peer (eof, TLS without close_notify), IoError("<what>: <reason>") otherwise.
[[noreturn]] void throw_error(const error_code& ec, const std::string& what);

// One deadline for a whole connect (resolve, TCP connect, TLS handshake, WebSocket upgrade). While an
// operation runs it is "watched": when the deadline passes, the watch's action (close the socket, cancel the
// resolver) makes the operation fail, and throw_if_expired() turns that failure into a timeout message.
// The timer runs on the connecting coroutine's executor, so the action never races the coroutine as long as
// that executor is a strand or a single-threaded io_context (the usual Asio rule for one socket).
class Deadline {
  struct State {
    std::function<void()> action;
    bool expired = false;
  };

 public:
  // A zero or negative timeout means no deadline.
  Deadline(const asio::any_io_executor& executor, std::chrono::milliseconds timeout);
  ~Deadline();
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  // Clears the action when destroyed, before whatever it refers to goes away.
  class [[nodiscard]] Watch {
   public:
    explicit Watch(std::shared_ptr<State> state) : state_(std::move(state)) {}
    ~Watch() { state_->action = nullptr; }
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;

   private:
    std::shared_ptr<State> state_;
  };

  // Runs `action` at expiry (immediately when already expired) until the returned Watch is destroyed.
  Watch watch(std::function<void()> action);
  bool expired() const { return state_->expired; }
  // Throws IoError("<what>: timed out after N ms") when expired.
  void throw_if_expired(const std::string& what) const;

 private:
  std::shared_ptr<State> state_;
  asio::steady_timer timer_;
  std::chrono::milliseconds timeout_;
};

// "host:port" as a user writes it, with brackets around IPv6 literals.
std::string host_port(const ParsedUrl& url);

// Resolves url.host:url.port and connects `socket` (owned by the caller's stream), then sets TCP_NODELAY.
// With `endpoint` and its `addresses`: connects to exactly those instead of resolving the host.
asio::awaitable<void> connect_socket(const ParsedUrl& url, tcp::socket& socket, Deadline& deadline,
                                     const Endpoint* endpoint = nullptr);

// Closes a socket, ignoring errors: for close() implementations and timeout actions.
void close_socket(tcp::socket& socket) noexcept;

// TLS client settings shared by vncs:// and wss://. The context must outlive every stream made from it.
std::shared_ptr<asio::ssl::context> make_tls_context(const TlsOptions& tls);

// Host name check for the leaf certificate (asio's host_name_verification) that also records
// X509_V_ERR_HOSTNAME_MISMATCH, so the handshake error names the cause.
struct VerifyHostName {
  asio::ssl::host_name_verification check;
  bool operator()(bool preverified, asio::ssl::verify_context& ctx) const;
};

// Per-connection TLS settings: SNI (not for IP literals) and the verification mode. `Stream` is an
// asio::ssl::stream or beast::ssl_stream.
void set_sni(SSL* ssl, const std::string& host);
template <class Stream>
void prepare_tls(Stream& stream, const TlsOptions& tls, const std::string& host) {
  set_sni(stream.native_handle(), host);
  if (tls.insecure || !tls.sha256_fingerprint.empty()) {
    // Pinning replaces chain and name checks; it runs after the handshake (check_pinned_certificate).
    stream.set_verify_mode(asio::ssl::verify_none);
  } else {
    stream.set_verify_mode(asio::ssl::verify_peer);
    stream.set_verify_callback(VerifyHostName{asio::ssl::host_name_verification(host)});
  }
}

// After a successful handshake: when a fingerprint is pinned, compares it with the SHA-256 of the leaf
// certificate's DER encoding in constant time; throws IoError on mismatch.
void check_pinned_certificate(SSL* ssl, const TlsOptions& tls, const std::string& what);

// Throws IoError for a failed TLS handshake, naming the verification failure (self-signed, expired, host
// name mismatch) and how to fix it.
[[noreturn]] void throw_handshake_error(const error_code& ec, SSL* ssl, const std::string& what);

// Transport factories behind io::connect(); `url` is `endpoint.url` parsed.
asio::awaitable<std::unique_ptr<ByteStream>> connect_tcp(asio::any_io_executor executor, const Endpoint& endpoint,
                                                         const ParsedUrl& url);
asio::awaitable<std::unique_ptr<ByteStream>> connect_tls(asio::any_io_executor executor, const Endpoint& endpoint,
                                                         const ParsedUrl& url);
asio::awaitable<std::unique_ptr<ByteStream>> connect_websocket(asio::any_io_executor executor, const Endpoint& endpoint,
                                                               const ParsedUrl& url);

}  // namespace vncgate::io::detail
