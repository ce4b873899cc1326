// SPDX-License-Identifier: Apache-2.0
#include "http/http_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cctype>
#include <exception>

#include "io/transport_detail.hpp"
#include "util/error.hpp"

namespace vncgate::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = beast::http;
using io::detail::Deadline;
using io::detail::error_code;

constexpr std::size_t kMaxBody =
    std::size_t{16} * 1024 * 1024;  // a Keystone catalog is tens of kB; anything near this is wrong

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

bool has_line_break(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

io::ParsedUrl to_io_url(const Url& url) {
  io::ParsedUrl out;
  out.scheme = url.scheme == "https" ? "wss" : "ws";
  out.host = url.host;
  out.port = url.port;
  out.target = url.target;
  return out;
}

template <class Stream>
asio::awaitable<Response> exchange(Stream& stream, const Request& request, const Url& url, Deadline& deadline,
                                   const std::string& what) {
  bhttp::request<bhttp::string_body> req;
  req.method_string(request.method);
  req.target(url.target);
  req.version(11);
  req.set(bhttp::field::host, url.authority());
  req.set(bhttp::field::user_agent, "vncgate");
  req.set(bhttp::field::connection, "close");
  for (const auto& [name, value] : request.headers) {
    if (name.empty() || has_line_break(name) || has_line_break(value)) {
      throw ConfigError(std::string("HTTP header '")
                            .append(name)
                            .append("' for ")
                            .append(what)
                            .append(" has a line break or an empty name"));
    }
    req.set(name, value);
  }
  req.body() = request.body;
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT") req.prepare_payload();

  auto& socket = beast::get_lowest_layer(stream).socket();
  auto watch = deadline.watch([&socket] { io::detail::close_socket(socket); });
  auto [wec, written] = co_await bhttp::async_write(stream, req, asio::as_tuple(asio::use_awaitable));
  deadline.throw_if_expired(what);
  if (wec) throw IoError(what + ": sending request: " + wec.message());

  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(kMaxBody);
  parser.header_limit(64 * 1024);  // Keystone tokens with big catalogs stay in the body, not the headers
  // A HEAD response announces the length of a body it never sends.
  if (request.method == "HEAD") parser.skip(true);
  auto [rec, read] = co_await bhttp::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
  deadline.throw_if_expired(what);
  if (rec) throw IoError(what + ": reading response: " + rec.message());
  auto res = parser.release();
  Response out;
  out.status = static_cast<int>(res.result_int());
  out.reason = std::string(res.reason());
  for (const auto& field : res) out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  out.body = std::move(res.body());
  co_return out;
}

}  // namespace

std::optional<std::string> Response::header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (iequals(n, name)) return v;
  return std::nullopt;
}

std::string Url::authority() const {
  const bool default_port = (scheme == "http" && port == "80") || (scheme == "https" && port == "443");
  const std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return default_port ? h : h + ":" + port;
}

std::string Url::origin() const { return scheme + "://" + authority(); }

std::optional<Url> parse_url(const std::string& url, std::string* error) {
  // The endpoint parser already handles hosts, IPv6 literals and ports; http(s) differ from ws(s) only in the
  // scheme name and default port, which are the same numbers.
  const auto sep = url.find("://");
  std::string scheme = sep == std::string::npos ? "" : url.substr(0, sep);
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "http" && scheme != "https") {
    if (error != nullptr) *error = "expected an http:// or https:// URL";
    return std::nullopt;
  }
  auto parsed = io::parse_url((scheme == "https" ? "wss" : "ws") + url.substr(sep), error);
  if (!parsed) return std::nullopt;
  return Url{scheme, parsed->host, parsed->port, parsed->target};
}

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::optional<std::string> percent_decode(std::string_view in) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return std::nullopt;
    const int hi = hex(in[i + 1]), lo = hex(in[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

std::string form_encode(const Headers& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out.push_back('&');
    out += percent_encode(name) + "=" + percent_encode(value);
  }
  return out;
}

asio::awaitable<Response> send(const Request& request) {
  std::string error;
  auto url = parse_url(request.url, &error);
  if (!url) throw ConfigError("bad URL '" + io::redact_url(request.url) + "': " + error);
  const io::ParsedUrl io_url = to_io_url(*url);
  const std::string what = request.method + " " + io::redact_url(request.url);
  auto executor = co_await asio::this_coro::executor;
  Deadline deadline(executor, request.timeout);

  if (url->scheme == "http") {
    beast::tcp_stream stream(executor);
    co_await io::detail::connect_socket(io_url, stream.socket(), deadline);
    co_return co_await exchange(stream, request, *url, deadline, what);
  }
  auto context = io::detail::make_tls_context(request.tls);
  beast::ssl_stream<beast::tcp_stream> stream(executor, *context);
  io::detail::prepare_tls(stream, request.tls, url->host);
  co_await io::detail::connect_socket(io_url, beast::get_lowest_layer(stream).socket(), deadline);
  {
    const std::string tls_what = "TLS handshake with " + io::detail::host_port(io_url);
    auto watch = deadline.watch([&stream] { io::detail::close_socket(beast::get_lowest_layer(stream).socket()); });
    auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::client, asio::as_tuple(asio::use_awaitable));
    deadline.throw_if_expired(tls_what);
    if (ec) io::detail::throw_handshake_error(ec, stream.native_handle(), tls_what);
    io::detail::check_pinned_certificate(stream.native_handle(), request.tls, tls_what);
  }
  co_return co_await exchange(stream, request, *url, deadline, what);
}

Response send_blocking(const Request& request) {
  asio::io_context ctx;
  std::optional<Response> result;
  std::exception_ptr failure;
  asio::co_spawn(ctx, send(request), [&](const std::exception_ptr& e, Response r) {
    failure = e;
    if (!e) result = std::move(r);
  });
  ctx.run();
  if (failure) std::rethrow_exception(failure);
  return std::move(*result);
}

}  // namespace vncgate::http
