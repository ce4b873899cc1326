// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "io/endpoint.hpp"

namespace vncgate::http {

namespace asio = boost::asio;

using Headers = std::vector<std::pair<std::string, std::string>>;

// One HTTP/1.1 request to an http:// or https:// URL (one connection per request: provider calls are rare).
struct Request {
  std::string method = "GET";
  std::string url;
  Headers headers;  // names are case-insensitive; values may be secrets and are never logged
  std::string body;
  io::TlsOptions tls;
  std::chrono::milliseconds timeout{30000};  // whole exchange: resolve, connect, TLS, request, response
};

struct Response {
  int status = 0;
  std::string reason;
  Headers headers;
  std::string body;

  // The first header called `name` (case-insensitive).
  std::optional<std::string> header(std::string_view name) const;
};

struct Url {
  std::string scheme;  // http or https
  std::string host;    // without brackets for IPv6
  std::string port;
  std::string target;  // path + query, "/" when absent
  // scheme://host[:port] as a browser writes it in an Origin header (default ports left out).
  std::string origin() const;
  // host[:port] as sent in the Host header (default port left out, IPv6 in brackets); what signers sign.
  std::string authority() const;
};

// Parses an http(s) URL; nullopt (reason in `error`) when malformed. Credentials in the URL are rejected.
std::optional<Url> parse_url(const std::string& url, std::string* error = nullptr);

// RFC 3986 percent-encoding of everything but unreserved characters (for query values and form bodies).
std::string percent_encode(std::string_view text);
// RFC 3986 percent-decoding ('+' is kept: these are URL queries, not forms); nullopt on a bad escape.
std::optional<std::string> percent_decode(std::string_view text);
// application/x-www-form-urlencoded body from name/value pairs.
std::string form_encode(const Headers& fields);

// Sends `request` and reads the whole response (any status). Throws IoError for transport failures (resolve,
// connect, TLS verification, timeout) naming the host; never puts header values or the query in messages.
asio::awaitable<Response> send(const Request& request);

// The same on a private io_context, for one-shot callers (CLI, tests).
Response send_blocking(const Request& request);

}  // namespace vncgate::http
