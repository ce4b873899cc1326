// SPDX-License-Identifier: Apache-2.0
// vncs://host:port — RFB inside TLS from the first byte (stunnel-style), plus the TLS settings wss:// shares.
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cctype>
#include <optional>

#include "io/transport_detail.hpp"
#include "util/error.hpp"

namespace vncgate::io::detail {
namespace {

using Sha256 = std::array<unsigned char, 32>;

// "AB:CD:…" or plain hex, any case; nullopt unless exactly 32 bytes.
std::optional<Sha256> parse_fingerprint(const std::string& text) {
  std::string hex;
  for (const char c : text) {
    if (c == ':') continue;
    if (std::isxdigit(static_cast<unsigned char>(c)) == 0) return std::nullopt;
    hex.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (hex.size() != 64) return std::nullopt;
  Sha256 out{};
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<unsigned char>(std::stoul(hex.substr(2 * i, 2), nullptr, 16));
  return out;
}

Sha256 parse_fingerprint_or_throw(const std::string& text) {
  auto parsed = parse_fingerprint(text);
  if (!parsed) {
    throw Error(ErrorCategory::config,
                "TLS certificate fingerprint must be a SHA-256 digest: 64 hex digits, optionally separated by ':'");
  }
  return *parsed;
}

std::string to_colon_hex(const Sha256& digest) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char b : digest) {
    if (!out.empty()) out.push_back(':');
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xF]);
  }
  return out;
}

bool is_ip_literal(const std::string& host) {
  error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

class TlsStream final : public ByteStream {
 public:
  TlsStream(asio::any_io_executor executor, std::shared_ptr<asio::ssl::context> context, std::string peer)
      : context_(std::move(context)), stream_(std::move(executor), *context_), peer_(std::move(peer)) {}
  ~TlsStream() override { close(); }

  asio::ssl::stream<tcp::socket>& stream() { return stream_; }

  asio::awaitable<std::size_t> read_some(asio::mutable_buffer buffer) override {
    auto [ec, n] = co_await stream_.async_read_some(buffer, asio::as_tuple(asio::use_awaitable));
    if (ec) fail(ec, "read from ");
    co_return n;
  }

  asio::awaitable<void> write(asio::const_buffer buffer) override {
    auto [ec, n] = co_await asio::async_write(stream_, buffer, asio::as_tuple(asio::use_awaitable));
    if (ec) fail(ec, "write to ");
  }

  asio::awaitable<void> write_gather(const std::vector<asio::const_buffer>& buffers) override {
    auto [ec, n] = co_await asio::async_write(stream_, buffers, asio::as_tuple(asio::use_awaitable));
    if (ec) fail(ec, "write to ");
  }

  // No close_notify: that needs an async round trip, and closing the socket is what cancels pending
  // operations. RFB has its own framing, so the peer loses nothing.
  void close() noexcept override {
    if (closed_) return;
    closed_ = true;
    close_socket(stream_.next_layer());
  }

 private:
  [[noreturn]] void fail(const error_code& ec, const char* verb) const {
    if (closed_) throw IoError(verb + peer_ + ": stream closed");
    throw_error(ec, verb + peer_ + " (TLS)");
  }

  std::shared_ptr<asio::ssl::context> context_;  // before stream_: outlives it
  asio::ssl::stream<tcp::socket> stream_;
  std::string peer_;
  bool closed_ = false;
};

}  // namespace

std::shared_ptr<asio::ssl::context> make_tls_context(const TlsOptions& tls) {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
  if (!tls.sha256_fingerprint.empty()) {
    parse_fingerprint_or_throw(tls.sha256_fingerprint);  // a typo must fail before we connect
  } else if (!tls.insecure) {
    error_code ec;
    if (tls.ca_file.empty()) {
      context->set_default_verify_paths(ec);
      if (ec) throw IoError("loading the system CA certificates: " + ec.message());
    } else {
      context->load_verify_file(tls.ca_file, ec);
      if (ec) throw Error(ErrorCategory::config, "TLS CA file " + tls.ca_file + ": " + ec.message());
    }
  }
  return context;
}

bool VerifyHostName::operator()(bool preverified, asio::ssl::verify_context& ctx) const {
  const bool ok = check(preverified, ctx);
  // host_name_verification only says "no"; record why, so SSL_get_verify_result() names it.
  if (preverified && !ok) X509_STORE_CTX_set_error(ctx.native_handle(), X509_V_ERR_HOSTNAME_MISMATCH);
  return ok;
}

void set_sni(SSL* ssl, const std::string& host) {
  // RFC 6066 §3: literal IP addresses are not permitted in server_name.
  if (!is_ip_literal(host)) SSL_set_tlsext_host_name(ssl, host.c_str());
}

void check_pinned_certificate(SSL* ssl, const TlsOptions& tls, const std::string& what) {
  if (tls.sha256_fingerprint.empty()) return;
  const Sha256 expected = parse_fingerprint_or_throw(tls.sha256_fingerprint);
  std::unique_ptr<X509, decltype(&X509_free)> cert(SSL_get1_peer_certificate(ssl), &X509_free);
  if (!cert) throw IoError(what + ": the server sent no certificate to compare with the pinned fingerprint");
  Sha256 actual{};
  unsigned int length = 0;
  if (X509_digest(cert.get(), EVP_sha256(), actual.data(), &length) != 1 || length != actual.size()) {
    throw IoError(what + ": cannot compute the certificate's SHA-256 fingerprint");
  }
  if (CRYPTO_memcmp(actual.data(), expected.data(), actual.size()) != 0) {
    // The actual fingerprint is public (anyone can connect and see it); printing it helps whoever pins.
    throw IoError(what + ": certificate fingerprint mismatch: server presented SHA-256 " + to_colon_hex(actual) +
                  ", which is not the pinned one");
  }
}

void throw_handshake_error(const error_code& ec, SSL* ssl, const std::string& what) {
  if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
    throw IoError(what + ": connection closed by peer during the TLS handshake (is it a TLS port?)");
  }
  std::string message = what + ": " + ec.message();
  if (ec.category() == asio::error::get_ssl_category() &&
      ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
    const long result = SSL_get_verify_result(ssl);
    message = what + ": certificate verify failed";
    if (result != X509_V_OK) message += std::string(": ") + X509_verify_cert_error_string(result);
    message += result == X509_V_ERR_HOSTNAME_MISMATCH
                   ? " (the certificate is not for this host name; pin its SHA-256 fingerprint to accept it anyway)"
                   : " (trust the issuer with a CA file or pin the certificate's SHA-256 fingerprint)";
  }
  throw IoError(message);
}

asio::awaitable<std::unique_ptr<ByteStream>> connect_tls(asio::any_io_executor executor, const Endpoint& endpoint,
                                                         const ParsedUrl& url) {
  const std::string peer = host_port(url);
  auto stream = std::make_unique<TlsStream>(executor, make_tls_context(endpoint.tls), peer);
  prepare_tls(stream->stream(), endpoint.tls, url.host);
  Deadline deadline(co_await asio::this_coro::executor, endpoint.connect_timeout);
  co_await connect_socket(url, stream->stream().next_layer(), deadline, &endpoint);
  {
    const std::string what = "TLS handshake with " + peer;
    auto watch = deadline.watch([&s = stream->stream()] { close_socket(s.next_layer()); });
    auto [ec] =
        co_await stream->stream().async_handshake(asio::ssl::stream_base::client, asio::as_tuple(asio::use_awaitable));
    deadline.throw_if_expired(what);
    if (ec) throw_handshake_error(ec, stream->stream().native_handle(), what);
    check_pinned_certificate(stream->stream().native_handle(), endpoint.tls, what);
  }
  co_return stream;
}

}  // namespace vncgate::io::detail
