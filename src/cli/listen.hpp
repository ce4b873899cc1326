// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <string>

namespace vncgate::cli {

// The first line of a password file (a trailing CR dropped); UsageError when unreadable or empty.
std::string read_password(const std::string& path);

// "HOST:PORT" with a numeric address ("[::1]:5900", ":5900" = 127.0.0.1) for --listen-style flags;
// UsageError naming `flag` when malformed.
boost::asio::ip::tcp::endpoint parse_listen(const std::string& text, const std::string& flag = "--listen");

}  // namespace vncgate::cli
