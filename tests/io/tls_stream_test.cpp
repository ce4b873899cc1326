// SPDX-License-Identifier: Apache-2.0
// vncs:// transport against an in-test TLS echo server with a certificate made in the test.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/detached.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <cstdio>
#include <fstream>

#include "io/byte_stream.hpp"
#include "io/io_test_util.hpp"
#include "util/error.hpp"

namespace vncgate::io {
namespace {

namespace ssl = asio::ssl;
using test::run;
using testing::HasSubstr;
using testing::Not;

class TlsStreamTest : public testing::Test {
 protected:
  // Serves TLS echo with `cert` on 127.0.0.1:port(); handshake failures on the server side are ignored
  // (the client's error is what the tests check).
  void serve(const test::TestCertificate& cert) {
    server_ctx_.use_certificate_chain(asio::buffer(cert.cert_pem));
    server_ctx_.use_private_key(asio::buffer(cert.key_pem), ssl::context::pem);
    asio::co_spawn(ctx_, accept_loop(), asio::detached);
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto stream = std::make_shared<ssl::stream<test::tcp::socket>>(
          co_await acceptor_.async_accept(asio::use_awaitable), server_ctx_);
      asio::co_spawn(
          ctx_,
          [stream]() -> asio::awaitable<void> {
            boost::system::error_code ec;
            co_await stream->async_handshake(ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, ec));
            if (!ec) co_await test::echo(*stream);
          },
          asio::detached);
    }
  }

  std::string url() const { return "vncs://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()); }

  // Connects with `tls`, sends a line and expects it back.
  void round_trip(const TlsOptions& tls) {
    const Endpoint endpoint{.url = url(), .tls = tls};
    run(ctx_, [&]() -> asio::awaitable<void> {
      auto stream = co_await connect(ctx_.get_executor(), endpoint);
      co_await stream->write(asio::buffer(std::string("RFB 003.008\n")));
      const std::string echoed = co_await test::read_exactly(*stream, 12);
      EXPECT_EQ(echoed, "RFB 003.008\n");
      stream->close();
    }());
  }

  // The what() of the Error that connecting with `tls` throws ("" when none).
  std::string connect_error(const TlsOptions& tls, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const Endpoint endpoint{.url = url(), .tls = tls, .connect_timeout = timeout};
    try {
      run(ctx_, [&]() -> asio::awaitable<void> { co_await connect(ctx_.get_executor(), endpoint); }());
    } catch (const IoError& e) {
      return e.what();
    }
    return "";
  }

  asio::io_context ctx_;
  test::tcp::acceptor acceptor_ = test::loopback_acceptor(ctx_);
  ssl::context server_ctx_{ssl::context::tls_server};
};

TEST_F(TlsStreamTest, PinnedFingerprint_Accepts_ColonSeparatedUpperCase) {
  const auto cert = test::make_self_signed();
  serve(cert);
  round_trip(TlsOptions{.sha256_fingerprint = cert.sha256_colon_upper});
}

TEST_F(TlsStreamTest, PinnedFingerprint_Accepts_PlainLowerCaseHex) {
  const auto cert = test::make_self_signed();
  serve(cert);
  round_trip(TlsOptions{.sha256_fingerprint = cert.sha256_hex_lower});
}

TEST_F(TlsStreamTest, PinnedFingerprint_Rejects_OtherCertificate) {
  const auto cert = test::make_self_signed();
  const auto other = test::make_self_signed();
  serve(cert);
  const std::string error = connect_error(TlsOptions{.sha256_fingerprint = other.sha256_colon_upper});
  EXPECT_THAT(error, HasSubstr("fingerprint mismatch"));
  EXPECT_THAT(error, HasSubstr(cert.sha256_colon_upper));  // what the server did present, to help pinning
}

TEST_F(TlsStreamTest, PinnedFingerprint_Rejects_MalformedPinBeforeConnecting) {
  const auto cert = test::make_self_signed();
  serve(cert);
  const Endpoint endpoint{.url = url(), .tls = {.sha256_fingerprint = cert.sha256_hex_lower.substr(2)}};
  try {
    run(ctx_, [&]() -> asio::awaitable<void> { co_await connect(ctx_.get_executor(), endpoint); }());
    ADD_FAILURE() << "expected a configuration error";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::config);
    EXPECT_THAT(e.what(), HasSubstr("64 hex digits"));
  }
}

TEST_F(TlsStreamTest, DefaultVerification_Rejects_SelfSignedWithClearError) {
  serve(test::make_self_signed());
  const std::string error = connect_error(TlsOptions{});
  EXPECT_THAT(error, HasSubstr("TLS handshake with 127.0.0.1:"));
  EXPECT_THAT(error, HasSubstr("certificate verify failed"));
  EXPECT_THAT(error, HasSubstr("self-signed certificate"));
  EXPECT_THAT(error, HasSubstr("pin the certificate's SHA-256 fingerprint"));
}

TEST_F(TlsStreamTest, Insecure_Accepts_SelfSigned) {
  serve(test::make_self_signed());
  round_trip(TlsOptions{.insecure = true});
}

class TlsStreamCaFileTest : public TlsStreamTest {
 protected:
  void TearDown() override { std::remove(ca_file_.c_str()); }
  std::string write_ca(const test::TestCertificate& cert) {
    std::ofstream(ca_file_) << cert.cert_pem;
    return ca_file_;
  }
  std::string ca_file_ = testing::TempDir() + "vncgate-tls-ca-" + std::to_string(::getpid()) + ".pem";
};

TEST_F(TlsStreamCaFileTest, CaFile_Accepts_CertificateForThisAddress) {
  const auto cert = test::make_self_signed("IP:127.0.0.1");
  serve(cert);
  round_trip(TlsOptions{.ca_file = write_ca(cert)});
}

TEST_F(TlsStreamCaFileTest, CaFile_Rejects_CertificateForAnotherHost) {
  const auto cert = test::make_self_signed("DNS:other.example");
  serve(cert);
  const std::string error = connect_error(TlsOptions{.ca_file = write_ca(cert)});
  EXPECT_THAT(error, HasSubstr("hostname mismatch"));
}

TEST_F(TlsStreamCaFileTest, CaFile_Missing_IsConfigError) {
  serve(test::make_self_signed());
  const Endpoint endpoint{.url = url(), .tls = {.ca_file = "/nonexistent/ca.pem"}};
  try {
    run(ctx_, [&]() -> asio::awaitable<void> { co_await connect(ctx_.get_executor(), endpoint); }());
    ADD_FAILURE() << "expected a configuration error";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::config);
    EXPECT_THAT(e.what(), HasSubstr("/nonexistent/ca.pem"));
  }
}

TEST_F(TlsStreamTest, Handshake_TimesOut_WhenServerStaysSilent) {
  std::vector<std::shared_ptr<test::tcp::socket>> held;  // accept, then never answer
  asio::co_spawn(
      ctx_,
      [&]() -> asio::awaitable<void> {
        for (;;)
          held.push_back(std::make_shared<test::tcp::socket>(co_await acceptor_.async_accept(asio::use_awaitable)));
      },
      asio::detached);
  const auto started = std::chrono::steady_clock::now();
  const std::string error = connect_error(TlsOptions{.insecure = true}, std::chrono::milliseconds(200));
  EXPECT_THAT(error, HasSubstr("TLS handshake with 127.0.0.1:"));
  EXPECT_THAT(error, HasSubstr("timed out after 200 ms"));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
}

TEST_F(TlsStreamTest, Handshake_Fails_WhenPeerIsNotTls) {
  asio::co_spawn(
      ctx_,
      [&]() -> asio::awaitable<void> {
        auto socket = co_await acceptor_.async_accept(asio::use_awaitable);
        co_await asio::async_write(socket, asio::buffer(std::string("RFB 003.008\n")), asio::use_awaitable);
      },
      asio::detached);
  const std::string error = connect_error(TlsOptions{.insecure = true});
  EXPECT_THAT(error, HasSubstr("TLS handshake with 127.0.0.1:"));
  EXPECT_THAT(error, Not(HasSubstr("timed out")));
}

TEST_F(TlsStreamTest, Read_ThrowsEndOfStream_WhenPeerClosesAfterData) {
  const auto cert = test::make_self_signed();
  server_ctx_.use_certificate_chain(asio::buffer(cert.cert_pem));
  server_ctx_.use_private_key(asio::buffer(cert.key_pem), ssl::context::pem);
  asio::co_spawn(
      ctx_,
      [&]() -> asio::awaitable<void> {
        ssl::stream<test::tcp::socket> stream(co_await acceptor_.async_accept(asio::use_awaitable), server_ctx_);
        co_await stream.async_handshake(ssl::stream_base::server, asio::use_awaitable);
        co_await asio::async_write(stream, asio::buffer(std::string("bye")), asio::use_awaitable);
        co_await stream.async_shutdown(asio::use_awaitable);  // close_notify, then wait for the client's
      },
      asio::detached);
  const Endpoint endpoint{.url = url(), .tls = {.insecure = true}};
  run(ctx_, [&]() -> asio::awaitable<void> {
    auto stream = co_await connect(ctx_.get_executor(), endpoint);
    const std::string echoed = co_await test::read_exactly(*stream, 3);
    EXPECT_EQ(echoed, "bye");
    char byte;
    const bool threw = co_await test::throws<EndOfStream>(stream->read_some(asio::buffer(&byte, 1)));
    EXPECT_TRUE(threw);
  }());
}

}  // namespace
}  // namespace vncgate::io
