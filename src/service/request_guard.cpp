// SPDX-License-Identifier: Apache-2.0
#include "service/request_guard.hpp"

#include <strings.h>

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <cctype>

#include "io/endpoint.hpp"
#include "util/error.hpp"

namespace vncgate::service {

namespace {

std::string lower(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

bool is_wildcard(const std::string& bind) {
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(bind, ec);
  return !ec && address.is_unspecified();
}

// An address as it appears in a Host header: IPv6 in brackets.
std::string host_form(const std::string& address) {
  return address.find(':') != std::string::npos && address.front() != '[' ? "[" + address + "]" : address;
}

// The host of "http(s)://HOST[:PORT]" (what the config accepts as public_url), lower case.
std::string url_host(const std::string& url) {
  const auto scheme = url.find("://");
  return scheme == std::string::npos ? "" : RequestGuard::host_name(url.substr(scheme + 3));
}

bool reading_only(const std::string& method) { return method == "GET" || method == "HEAD" || method == "OPTIONS"; }

bool is_proxy_header(const std::string& name) {
  return strcasecmp(name.c_str(), "Forwarded") == 0 || strcasecmp(name.c_str(), "Via") == 0 ||
         strncasecmp(name.c_str(), "X-Forwarded-", 12) == 0;
}

}  // namespace

std::string RequestGuard::host_name(const std::string& host_header) {
  std::string name;
  if (!host_header.empty() && host_header.front() == '[') {
    const auto close = host_header.find(']');
    if (close == std::string::npos) return "";
    name = host_header.substr(0, close + 1);
    const auto rest = host_header.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return "";
  } else {
    name = host_header.substr(0, host_header.find(':'));
  }
  if (!name.empty() && name.back() == '.') name.pop_back();
  const bool clean = std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-' || c == '_' || c == '[' ||
           c == ']' || c == ':';
  });
  return clean ? lower(name) : "";
}

RequestGuard::RequestGuard(const ServerOptions& options)
    : configured_origins_(options.allowed_origins), public_url_(options.public_url), keys_(!options.api_keys.empty()) {
  for (const auto& host : options.allowed_hosts) hosts_.push_back(host_name(host_form(host)));
  if (!public_url_.empty()) hosts_.push_back(url_host(public_url_));
  if (io::is_loopback_address(options.bind)) {
    for (const char* name : {"localhost", "127.0.0.1", "[::1]"}) hosts_.emplace_back(name);
    hosts_.push_back(host_form(options.bind));
  } else if (!is_wildcard(options.bind)) {
    hosts_.push_back(host_form(options.bind));
  } else if (hosts_.empty()) {
    throw ConfigError("server.bind " + options.bind +
                      " accepts any address: set server.allowed_hosts (the names and addresses clients use to reach "
                      "this server) or server.public_url");
  }
  std::erase(hosts_, std::string());
  set_port(options.port);
}

void RequestGuard::set_port(std::uint16_t port) {
  origins_ = configured_origins_;
  if (!origins_.empty()) return;
  if (!public_url_.empty()) origins_.push_back(public_url_);
  for (const auto& host : hosts_)
    for (const char* scheme : {"http://", "https://"}) origins_.push_back(scheme + host + ":" + std::to_string(port));
}

std::optional<HttpResponse> RequestGuard::check(const HttpRequest& request, bool upgrade) const {
  const auto host = request.header("Host");
  if (host && std::find(hosts_.begin(), hosts_.end(), host_name(*host)) == hosts_.end())
    return json_error(421, "misdirected_request",
                      "this server does not answer for that Host (add it to server.allowed_hosts)");
  if (!keys_) {
    for (const auto& [name, value] : request.headers)
      if (is_proxy_header(name))
        return json_error(403, "proxy_needs_api_keys",
                          "this server has no API keys, so it refuses requests through a proxy (" + name +
                              "); configure server.api_keys (docs/deployment.md)");
  }
  if (upgrade || !reading_only(request.method)) {
    if (lower(request.header("Sec-Fetch-Site").value_or("")) == "cross-site")
      return json_error(403, "cross_site", "requests from another site are refused");
    if (const auto origin = request.header("Origin");
        origin && std::find(origins_.begin(), origins_.end(), *origin) == origins_.end())
      return json_error(403, "forbidden_origin", "requests from this origin are refused (see server.allowed_origins)");
  }
  if (!upgrade && !reading_only(request.method) && !request.body.empty()) {
    auto type = lower(request.header("Content-Type").value_or(""));
    type = type.substr(0, type.find(';'));
    while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.pop_back();
    if (type != "application/json")
      return json_error(415, "unsupported_media_type", "request bodies must be sent as Content-Type: application/json");
  }
  return std::nullopt;
}

}  // namespace vncgate::service
