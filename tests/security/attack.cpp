// SPDX-License-Identifier: Apache-2.0
#include "attack.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

namespace vncgate::test {

RawResponse raw_http(int port, const std::string& request, std::chrono::milliseconds timeout) {
  namespace asio = boost::asio;
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
  asio::write(socket, asio::buffer(request));
  std::string reply;
  char buffer[16384];
  // A deadline over the whole read: SO_RCVTIMEO per read keeps a silent server from hanging the test.
  const timeval tv{static_cast<time_t>(timeout.count() / 1000),
                   static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  for (;;) {
    const auto n = ::recv(socket.native_handle(), buffer, sizeof buffer, 0);
    if (n <= 0) break;
    reply.append(buffer, static_cast<std::size_t>(n));
  }
  RawResponse out;
  const auto end = reply.find("\r\n\r\n");
  out.head = reply.substr(0, end);
  if (end != std::string::npos) out.body = reply.substr(end + 4);
  if (reply.rfind("HTTP/1.1 ", 0) == 0) out.status = std::stoi(reply.substr(9, 3));
  return out;
}

std::string http_text(const std::string& method, const std::string& path, const std::string& host,
                      const std::string& headers, const std::string& body) {
  std::string text = method + " " + path + " HTTP/1.1\r\nHost: " + host + "\r\n" + headers;
  if (!body.empty() || method == "POST") text += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return text + "Connection: close\r\n\r\n" + body;
}

}  // namespace vncgate::test
