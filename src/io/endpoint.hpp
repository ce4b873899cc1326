// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vncgate::io {

struct TlsOptions {
  std::string ca_file;             // extra CA bundle; empty = system CAs
  std::string sha256_fingerprint;  // pin the peer certificate ("AB:CD:..." or hex); overrides CA checks
  bool insecure = false;           // skip verification entirely (logged loudly by whoever sets it)
};

// How to reach one byte stream: `vnc://host:port`, `vncs://host:port` (TLS), `ws://host:port/path?q`,
// `wss://...`. Headers and subprotocols apply to WebSocket only.
struct Endpoint {
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. Cookie, Authorization, Origin
  // Spelled without a braced list: g++ 12 rejects ("array used as initializer") any Endpoint built inside a
  // coroutine when this default is `{"binary"}`.
  std::vector<std::string> subprotocols = std::vector<std::string>(1, "binary");
  TlsOptions tls;
  std::chrono::milliseconds connect_timeout{10000};
  // When set: connect to exactly these addresses (the ones an allow-list checked) instead of resolving the
  // URL's host again; TLS names and Host headers still use the host.
  std::vector<std::string> addresses;
};

struct ParsedUrl {
  std::string scheme;  // vnc, vncs, ws, wss
  std::string host;    // without brackets for IPv6
  std::string port;
  std::string target;    // path + query for WebSocket, "/" when absent
  std::string password;  // from vnc://:password@host (discouraged; prefer a password file)
};

// Parses an endpoint URL; nullopt (and a reason in `error`) when malformed or of an unknown scheme.
std::optional<ParsedUrl> parse_url(const std::string& url, std::string* error = nullptr);

// True for an IPv4 or IPv6 loopback address literal (127.0.0.0/8, ::1); names, "localhost" included, are not
// resolved here.
bool is_loopback_address(const std::string& host);

// The URL with query string and userinfo replaced by "…" so tokens and passwords never reach logs.
std::string redact_url(const std::string& url);

}  // namespace vncgate::io
