// SPDX-License-Identifier: Apache-2.0
#include "cli/listen.hpp"

#include <fstream>

#include "util/error.hpp"

namespace vncgate::cli {

namespace asio = boost::asio;

// The first line of the file (a trailing CR dropped), as vncgate's other password files are read.
std::string read_password(const std::string& path) {
  std::ifstream in(path);
  std::string password;
  if (!in || !std::getline(in, password)) throw UsageError("cannot read password file " + path);
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (password.empty()) throw UsageError("password file " + path + " is empty");
  return password;
}

asio::ip::tcp::endpoint parse_listen(const std::string& text, const std::string& flag) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) throw UsageError(flag + " wants HOST:PORT, got '" + text + "'");
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host.empty() ? "127.0.0.1" : host, ec);
  int port = -1;
  try {
    port = std::stoi(text.substr(colon + 1));
  } catch (const std::exception&) {
  }
  if (ec || port < 0 || port > 65535)
    throw UsageError(flag + " wants HOST:PORT with a numeric address, got '" + text + "'");
  return {address, static_cast<unsigned short>(port)};
}

}  // namespace vncgate::cli
