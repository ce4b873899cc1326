// SPDX-License-Identifier: Apache-2.0
#include "service_fixture.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <signal.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <cstdlib>
#include <fstream>
#include <istream>
#include <thread>

namespace vncgate::test {

ServeProcess::ServeProcess(ServeOptions options) : options_(std::move(options)) {
  port_ = options_.port ? options_.port : free_port();
}

ServeProcess::~ServeProcess() { process_.stop(); }

void ServeProcess::start() {
  const auto& d = options_.data_dir;
  // $VNCGATE_SERVE_BINARY runs another build (an older one, to show a test fails there).
  const char* binary = std::getenv("VNCGATE_SERVE_BINARY");
  std::vector<std::string> argv = {binary ? binary : VNCGATE_BINARY,
                                   "serve",
                                   "--port",
                                   std::to_string(port_),
                                   "--db",
                                   d + "/vncgate.db",
                                   "--work-dir",
                                   d + "/work",
                                   "--storage",
                                   options_.storage_url.empty() ? "file://" + d + "/recordings" : options_.storage_url};
  for (const auto& t : options_.targets) argv.insert(argv.end(), {"--target", t});
  if (options_.allow_no_auth) argv.insert(argv.end(), {"--set", "server.allow_no_auth=true"});
  if (options_.allow_loopback) argv.insert(argv.end(), {"--set", "providers.allow_loopback=true"});
  argv.insert(argv.end(), options_.extra_args.begin(), options_.extra_args.end());
  process_ = Process(argv, d + "/serve-" + std::to_string(++starts_) + ".log", options_.env);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!process_.running()) throw std::runtime_error("vncgate serve exited: " + process_.log_tail());
    try {
      if (request("GET", "/healthz").status == 200) return;
    } catch (const std::exception&) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  throw std::runtime_error("vncgate serve did not answer /healthz: " + process_.log_tail());
}

void ServeProcess::kill9() {
  ::kill(process_.pid(), SIGKILL);
  process_.wait(std::chrono::seconds(10));
}

int ServeProcess::stop() { return process_.stop(std::chrono::seconds(20)); }

http::Response ServeProcess::request(const std::string& method, const std::string& path, const std::string& body,
                                     const http::Headers& headers) const {
  http::Request r;
  r.method = method;
  r.url = url(path);
  r.body = body;
  r.headers = headers;
  if (!body.empty()) r.headers.emplace_back("Content-Type", "application/json");
  r.timeout = std::chrono::seconds(20);
  r.tls.ca_file = options_.ca_file;
  return http::send_blocking(r);
}

http::Response ServeProcess::plain_get(int port, const std::string& path) {
  http::Request r;
  r.url = "http://127.0.0.1:" + std::to_string(port) + path;
  r.timeout = std::chrono::seconds(5);
  return http::send_blocking(r);
}

nlohmann::json ServeProcess::json(const std::string& method, const std::string& path, const std::string& body,
                                  int expected_status) const {
  auto response = request(method, path, body);
  EXPECT_EQ(response.status, expected_status) << method << " " << path << ": " << response.body;
  auto parsed = nlohmann::json::parse(response.body, nullptr, false);
  EXPECT_FALSE(parsed.is_discarded()) << response.body;
  return parsed;
}

nlohmann::json ServeProcess::wait_job(const std::string& job_id, const std::function<bool(const nlohmann::json&)>& done,
                                      std::chrono::seconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  nlohmann::json job;
  while (std::chrono::steady_clock::now() < deadline) {
    auto response = request("GET", "/api/v1/recordings/" + job_id);
    if (response.status == 200) {
      job = nlohmann::json::parse(response.body);
      if (done(job)) return job;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ADD_FAILURE() << "job " << job_id << " did not get there in " << timeout.count() << " s; last seen: " << job.dump()
                << "\n"
                << log_tail();
  return job;
}

nlohmann::json ServeProcess::wait_state(const std::string& job_id, const std::string& state,
                                        std::chrono::seconds timeout) const {
  return wait_job(
      job_id, [&](const nlohmann::json& job) { return job.at("state") == state; }, timeout);
}

std::string upgrade_status(int port, const std::string& path, const std::string& headers) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
  const std::string request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                              "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
                              headers + "\r\n";
  boost::asio::write(socket, boost::asio::buffer(request));
  boost::asio::streambuf reply;
  boost::asio::read_until(socket, reply, "\r\n");
  std::string line;
  std::istream(&reply) >> line >> line;
  return line;
}

std::string sha256_of_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  char buffer[1 << 16];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0)
    EVP_DigestUpdate(ctx, buffer, static_cast<std::size_t>(in.gcount()));
  unsigned char digest[32];
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx, digest, &n);
  EVP_MD_CTX_free(ctx);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

}  // namespace vncgate::test
