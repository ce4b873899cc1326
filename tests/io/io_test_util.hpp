// SPDX-License-Identifier: Apache-2.0
// Helpers for transport tests: run a coroutine on an io_context with a time limit, loopback echo servers,
// and an in-test self-signed certificate (OpenSSL EVP_PKEY + X509, nothing on disk unless asked).
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "io/byte_stream.hpp"

namespace vncgate::io::test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Runs `main` on `ctx` until it completes; rethrows its exception; fails after `limit`. Other coroutines
// (servers) stay suspended and are destroyed with the context.
inline void run(asio::io_context& ctx, asio::awaitable<void> main,
                std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  std::exception_ptr error;
  bool done = false;
  asio::co_spawn(ctx, std::move(main), [&](std::exception_ptr e) {
    error = e;
    done = true;
    ctx.stop();
  });
  ctx.restart();
  ctx.run_for(limit);
  if (!done) throw std::runtime_error("test coroutine did not finish in time");
  if (error) std::rethrow_exception(error);
}

// A listening socket on 127.0.0.1, port chosen by the kernel.
inline tcp::acceptor loopback_acceptor(asio::io_context& ctx) {
  return tcp::acceptor(ctx, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
}

// Echoes what it reads on `stream` until the peer closes or an error occurs.
template <class Stream>
asio::awaitable<void> echo(Stream& stream) {
  std::vector<char> buf(16384);
  for (;;) {
    boost::system::error_code ec;
    const std::size_t n =
        co_await stream.async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    co_await asio::async_write(stream, asio::buffer(buf.data(), n), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
  }
}

// Accepts connections forever and echoes each.
inline asio::awaitable<void> tcp_echo_server(tcp::acceptor& acceptor) {
  for (;;) {
    auto socket = std::make_shared<tcp::socket>(co_await acceptor.async_accept(asio::use_awaitable));
    asio::co_spawn(
        acceptor.get_executor(), [socket]() -> asio::awaitable<void> { co_await echo(*socket); }, asio::detached);
  }
}

// Reads exactly `n` bytes through a ByteStream.
inline asio::awaitable<std::string> read_exactly(ByteStream& stream, std::size_t n) {
  std::string out(n, '\0');
  std::size_t got = 0;
  while (got < n) got += co_await stream.read_some(asio::buffer(out.data() + got, n - got));
  co_return out;
}

// Whether `op` throws an E. (GCC 12 cannot compile co_await inside gtest's EXPECT_* macros.)
template <class E, class T>
asio::awaitable<bool> throws(asio::awaitable<T> op) {
  try {
    co_await std::move(op);
  } catch (const E&) {
    co_return true;
  } catch (...) {
    co_return false;
  }
  co_return false;
}

// A pattern that differs byte by byte, so shifted or duplicated chunks show.
inline std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + i / 251) & 0xFF);
  return s;
}

struct TestCertificate {
  std::string cert_pem;
  std::string key_pem;
  std::string sha256_colon_upper;  // "AB:CD:..."
  std::string sha256_hex_lower;    // "abcd..."
};

// A self-signed P-256 certificate valid for one day, with the given subjectAltName (OpenSSL config syntax).
inline TestCertificate make_self_signed(const std::string& subject_alt_name = "IP:127.0.0.1,DNS:localhost") {
  auto fail = [](const char* what) { throw std::runtime_error(std::string("test certificate: ") + what); };
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), &EVP_PKEY_free);
  if (!key) fail("EVP_EC_gen");
  std::unique_ptr<X509, decltype(&X509_free)> x509(X509_new(), &X509_free);
  X509_set_version(x509.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x509.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(x509.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x509.get()), 86400);
  X509_set_pubkey(x509.get(), key.get());
  X509_NAME* name = X509_get_subject_name(x509.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("vncgate test"), -1, -1,
                             0);
  X509_set_issuer_name(x509.get(), name);
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, x509.get(), x509.get(), nullptr, nullptr, 0);
  X509_EXTENSION* san = X509V3_EXT_conf_nid(nullptr, &v3, NID_subject_alt_name, subject_alt_name.c_str());
  if (san == nullptr) fail("subjectAltName");
  X509_add_ext(x509.get(), san, -1);
  X509_EXTENSION_free(san);
  if (X509_sign(x509.get(), key.get(), EVP_sha256()) == 0) fail("X509_sign");

  auto to_pem = [&](auto write) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    if (write(bio.get()) != 1) fail("PEM");
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(len));
  };
  TestCertificate out;
  out.cert_pem = to_pem([&](BIO* b) { return PEM_write_bio_X509(b, x509.get()); });
  out.key_pem =
      to_pem([&](BIO* b) { return PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr); });
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  X509_digest(x509.get(), EVP_sha256(), md, &md_len);
  for (unsigned i = 0; i < md_len; ++i) {
    char hex[4];
    if (i != 0) out.sha256_colon_upper.push_back(':');
    std::snprintf(hex, sizeof hex, "%02X", md[i]);
    out.sha256_colon_upper.append(hex);
    std::snprintf(hex, sizeof hex, "%02x", md[i]);
    out.sha256_hex_lower.append(hex);
  }
  return out;
}

}  // namespace vncgate::io::test
