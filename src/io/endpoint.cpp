// SPDX-License-Identifier: Apache-2.0
#include "io/endpoint.hpp"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <cctype>
#include <charconv>
#include <string_view>

namespace vncgate::io {
namespace {

// The redaction marker: U+2026 HORIZONTAL ELLIPSIS.
constexpr std::string_view kRedacted = "\xE2\x80\xA6";

std::optional<ParsedUrl> fail(std::string* error, std::string reason) {
  if (error != nullptr) *error = std::move(reason);
  return std::nullopt;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986 §2.1 percent-decoding; nullopt on a truncated or non-hex escape.
std::optional<std::string> percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return std::nullopt;
    const int hi = hex_value(in[i + 1]);
    const int lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

bool is_reg_name_char(char c) {
  // RFC 3986 unreserved characters; enough for DNS names and IPv4 literals.
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_' || c == '~';
}

bool is_ipv6_literal_char(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == ':' || c == '.'; }

std::string_view default_port(std::string_view scheme) {
  if (scheme == "ws") return "80";
  if (scheme == "wss") return "443";
  return "5900";  // vnc, vncs: display :0
}

bool is_websocket(std::string_view scheme) { return scheme == "ws" || scheme == "wss"; }

}  // namespace

std::optional<ParsedUrl> parse_url(const std::string& url, std::string* error) {
  const auto sep = url.find("://");
  if (sep == std::string::npos || sep == 0) {
    return fail(error, "missing scheme (expected vnc://, vncs://, ws:// or wss://)");
  }
  ParsedUrl out;
  out.scheme = url.substr(0, sep);
  std::transform(out.scheme.begin(), out.scheme.end(), out.scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (out.scheme != "vnc" && out.scheme != "vncs" && !is_websocket(out.scheme)) {
    return fail(error, "unknown scheme '" + out.scheme + "' (expected vnc, vncs, ws or wss)");
  }

  const std::string_view rest = std::string_view(url).substr(sep + 3);
  const auto authority_end = std::min(rest.find_first_of("/?#"), rest.size());
  std::string_view authority = rest.substr(0, authority_end);
  const std::string_view tail = rest.substr(authority_end);  // path, query, fragment

  // Userinfo: the last '@' of the authority, so an unescaped '@' in a password still parses.
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    if (is_websocket(out.scheme)) {
      return fail(error, "credentials in a " + out.scheme + ":// URL are not supported (use headers)");
    }
    if (userinfo.empty() || userinfo.front() != ':') {
      return fail(error, "VNC has no user names; put the password as vnc://:PASSWORD@host");
    }
    auto password = percent_decode(userinfo.substr(1));
    if (!password) return fail(error, "malformed percent-escape in the password");
    out.password = std::move(*password);
  }

  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return fail(error, "unterminated '[' in IPv6 host");
    out.host = std::string(authority.substr(1, close - 1));
    if (out.host.find(':') == std::string::npos ||
        !std::all_of(out.host.begin(), out.host.end(), is_ipv6_literal_char)) {
      return fail(error, "malformed IPv6 address in brackets");
    }
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return fail(error, "unexpected characters after ']'");
      port = after.substr(1);
      if (port.empty()) return fail(error, "empty port after ':'");
    }
  } else {
    if (std::count(authority.begin(), authority.end(), ':') > 1) {
      return fail(error, "IPv6 addresses go in brackets, as in vnc://[::1]:5900");
    }
    const auto colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) return fail(error, "empty port after ':'");
    }
    if (!std::all_of(out.host.begin(), out.host.end(), is_reg_name_char)) {
      return fail(error, "invalid character in host name");
    }
  }
  if (out.host.empty()) return fail(error, "empty host");

  if (port.empty()) {
    out.port = std::string(default_port(out.scheme));
  } else {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535 ||
        !std::isdigit(static_cast<unsigned char>(port.front()))) {
      return fail(error, "bad port '" + std::string(port) + "' (expected 1-65535)");
    }
    out.port = std::to_string(value);
  }

  // RFC 6455 §3: WebSocket URIs have no fragment. VNC URLs carry nothing after the authority.
  if (tail.find('#') != std::string_view::npos) return fail(error, "URL fragments ('#') are not allowed");
  if (is_websocket(out.scheme)) {
    out.target = tail.empty() || tail.front() == '?' ? "/" + std::string(tail) : std::string(tail);
  } else {
    if (!tail.empty() && tail != "/") return fail(error, out.scheme + ":// URLs take no path or query");
    out.target = "/";
  }
  return out;
}

bool is_loopback_address(const std::string& host) {
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(host, ec);
  return !ec && address.is_loopback();
}

std::string redact_url(const std::string& url) {
  std::string out;
  out.reserve(url.size());
  std::string_view rest = url;
  // Without "://" (malformed input) the text up to the first '/', '?' or '#' is treated as the authority too,
  // so a stray "secret@host" is still redacted.
  if (const auto sep = rest.find("://"); sep != std::string_view::npos) {
    out.append(rest.substr(0, sep + 3));
    rest = rest.substr(sep + 3);
  }
  const auto authority_end = std::min(rest.find_first_of("/?#"), rest.size());
  const std::string_view authority = rest.substr(0, authority_end);
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    out.append(kRedacted).append(authority.substr(at));
  } else {
    out.append(authority);
  }
  rest = rest.substr(authority_end);
  // Path kept; query and fragment (noVNC puts passwords there too) replaced.
  const auto mark = rest.find_first_of("?#");
  out.append(rest.substr(0, mark));
  if (mark != std::string_view::npos) {
    const auto query_or_fragment = rest.substr(mark);
    if (query_or_fragment.front() == '?') out.append("?").append(kRedacted);
    if (query_or_fragment.find('#') != std::string_view::npos) out.append("#").append(kRedacted);
  }
  return out;
}

}  // namespace vncgate::io
