// SPDX-License-Identifier: Apache-2.0
// Raw HTTP for attack tests: exactly the bytes an attacker (or a browser) sends, headers such as Host or Origin
// included, which a regular client would set by itself.
#pragma once

#include <chrono>
#include <string>

namespace vncgate::test {

struct RawResponse {
  int status = 0;  // 0 = the connection closed without an answer
  std::string head, body;
};

// Sends `request` (a whole HTTP/1.1 request; "Connection: close" is the caller's) to 127.0.0.1:`port` and reads
// the answer until the server closes or `timeout`.
RawResponse raw_http(int port, const std::string& request,
                     std::chrono::milliseconds timeout = std::chrono::seconds(10));

// METHOD PATH with Host: `host` and `headers` (each "Name: value\r\n"), body with Content-Length, Connection: close.
std::string http_text(const std::string& method, const std::string& path, const std::string& host,
                      const std::string& headers = {}, const std::string& body = {});

}  // namespace vncgate::test
