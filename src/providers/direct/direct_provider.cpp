// SPDX-License-Identifier: Apache-2.0
#include "providers/direct/direct_provider.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cctype>
#include <charconv>

#include "util/error.hpp"

namespace vncgate::providers {
namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::optional<std::vector<unsigned char>> address_bytes(const std::string& text) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(text, ec);
  if (ec) return std::nullopt;
  // IPv4-mapped IPv6 (::ffff:10.0.0.1) is checked as the IPv4 address it reaches.
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  }
  if (address.is_v4()) {
    auto b = address.to_v4().to_bytes();
    return std::vector<unsigned char>(b.begin(), b.end());
  }
  auto b = address.to_v6().to_bytes();
  return std::vector<unsigned char>(b.begin(), b.end());
}

bool host_name_like(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_';
  });
}

}  // namespace

AllowList::AllowList(bool loopback) {
  if (!loopback) return;
  add("127.0.0.0/8");
  add("::1/128");
  add("localhost");
}

void AllowList::add(const std::string& entry) {
  const auto slash = entry.find('/');
  const std::string host = entry.substr(0, slash);
  if (auto bytes = address_bytes(host)) {
    Network n{*bytes, static_cast<unsigned>(bytes->size() * 8)};
    if (slash != std::string::npos) {
      const std::string p = entry.substr(slash + 1);
      unsigned prefix = 0;
      const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
      if (p.empty() || ec != std::errc{} || end != p.data() + p.size() || prefix > n.prefix) {
        throw ConfigError("allow-list entry '" + entry + "': bad prefix length");
      }
      n.prefix = prefix;
    }
    networks_.push_back(std::move(n));
    return;
  }
  if (slash != std::string::npos || !host_name_like(host)) {
    throw ConfigError("allow-list entry '" + entry + "' is neither a CIDR, an address nor a host name");
  }
  names_.push_back(lower(host));
}

bool AllowList::allows_address(const std::string& address) const {
  auto bytes = address_bytes(address);
  if (!bytes) return false;
  return std::any_of(networks_.begin(), networks_.end(), [&](const Network& n) {
    if (n.bytes.size() != bytes->size()) return false;
    for (unsigned bit = 0; bit < n.prefix; ++bit) {
      const unsigned mask = 0x80u >> (bit % 8);
      if ((n.bytes[bit / 8] & mask) != ((*bytes)[bit / 8] & mask)) return false;
    }
    return true;
  });
}

bool AllowList::allows_name(const std::string& host) const {
  return std::find(names_.begin(), names_.end(), lower(host)) != names_.end();
}

bool AllowList::allows_host(const std::string& host) const {
  if (allows_name(host)) return true;
  if (address_bytes(host)) return allows_address(host);
  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  boost::system::error_code ec;
  const auto results = resolver.resolve(host, "", ec);
  if (ec || results.empty()) return false;
  return std::all_of(results.begin(), results.end(),
                     [&](const auto& r) { return allows_address(r.endpoint().address().to_string()); });
}

asio::awaitable<ConsoleEndpoint> DirectProvider::acquire(const Target& target) {
  std::string error;
  auto url = io::parse_url(target.url, &error);
  if (!url) throw UsageError("bad target '" + io::redact_url(target.url) + "': " + error);
  const auto& allow = settings_.allow;
  bool allowed = allow.allows_name(url->host);
  std::vector<std::string> checked;  // the addresses a name resolved to, all allowed
  if (!allowed && address_bytes(url->host)) {
    allowed = allow.allows_address(url->host);
  } else if (!allowed) {
    // Every address must be allowed: the connection may use any of them, and uses exactly these (a name whose
    // records change before the connect cannot lead elsewhere: DNS rebinding).
    asio::ip::tcp::resolver resolver(co_await asio::this_coro::executor);
    auto [ec, results] = co_await resolver.async_resolve(url->host, url->port, asio::ip::tcp::resolver::numeric_service,
                                                         asio::as_tuple(asio::use_awaitable));
    if (ec) throw IoError("resolve " + url->host + ": " + ec.message());
    allowed = !results.empty();
    for (const auto& r : results) {
      checked.push_back(r.endpoint().address().to_string());
      allowed = allowed && allow.allows_address(checked.back());
    }
  }
  if (!allowed) {
    throw ConfigError("direct target host '" + url->host +
                      "' is not on the allow-list (add it with --allow HOST|CIDR or VNCGATE_ALLOW)");
  }
  ConsoleEndpoint out;
  out.endpoint.url = target.url;
  out.endpoint.tls = settings_.tls;
  out.endpoint.connect_timeout = settings_.connect_timeout;
  out.endpoint.addresses = std::move(checked);
  out.password = settings_.password.empty() ? url->password : settings_.password;
  co_return out;
}

}  // namespace vncgate::providers
