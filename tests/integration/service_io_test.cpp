// SPDX-License-Identifier: Apache-2.0
// `vncgate serve` under the conditions of issue 14, each against the live process: hundreds of slow clients whose
// request timeouts fire while their bytes still drip in (it used to abort in Beast's basic_stream); downloads
// slower than the request timeout and larger than memory should hold (streamed, byte for byte, bounded RSS); and
// an S3 endpoint that stalls (behind a stalling TCP proxy) while a viewer watches a ticking console through the
// gateway: the console keeps updating, because nothing that waits on storage runs on the network threads.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <thread>

#include "rfb/blocking_client.hpp"
#include "service_fixture.hpp"
#include "support/qemu.hpp"
#include "support/s3rver.hpp"
#include "support/tcp_proxy.hpp"

namespace vncgate::test {
namespace {

namespace fs = std::filesystem;
namespace asio = boost::asio;
using namespace std::chrono_literals;
using nlohmann::json;

class ServiceIoTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { guest_ = new QemuGuest(QemuOptions{.mode = "tick"}); }
  static void TearDownTestSuite() { delete guest_; }
  static inline QemuGuest* guest_ = nullptr;
};

// Resident memory of a process in bytes (VmRSS).
std::size_t rss_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  return 0;
}

asio::ip::tcp::socket connect_to(asio::io_context& io, int port) {
  asio::ip::tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
  return socket;
}

// GETs `path` reading at most `bytes_per_s`; returns the body (throws on a short answer).
std::string slow_get(int port, const std::string& path, std::size_t bytes_per_s, const http::Headers& headers = {}) {
  asio::io_context io;
  auto socket = connect_to(io, port);
  std::string request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const auto& [k, v] : headers) request += k + ": " + v + "\r\n";
  asio::write(socket, asio::buffer(request + "\r\n"));
  std::string reply;
  std::array<char, 16384> chunk{};
  boost::system::error_code ec;
  const auto started = std::chrono::steady_clock::now();
  while (!ec) {
    reply.append(chunk.data(), socket.read_some(asio::buffer(chunk), ec));
    const auto due = started + std::chrono::microseconds(reply.size() * 1'000'000 / bytes_per_s);
    std::this_thread::sleep_until(due);
  }
  const auto header_end = reply.find("\r\n\r\n");
  if (header_end == std::string::npos) throw std::runtime_error("no HTTP answer: " + reply.substr(0, 200));
  const auto length_at = reply.find("Content-Length: ");
  const auto length = std::stoull(reply.substr(length_at + 16));
  auto body = reply.substr(header_end + 4);
  if (body.size() != length)
    throw std::runtime_error("body of " + std::to_string(body.size()) + " bytes, expected " + std::to_string(length));
  return body;
}

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(rng());
  return out;
}

// Records one short segment of the demo console and returns the finished job.
json record_one(ServeProcess& serve) {
  auto created = serve.json("POST", "/record", R"({"server": "demo", "duration": 1, "count": 1})", 202);
  return serve.wait_state(created.at("job_id"), "done", 60s);
}

// The crash of issue 14: request timeouts firing while bytes arrive, on the service's two network threads.
void drip(ServeProcess& serve, int connections, std::chrono::milliseconds duration) {
  asio::io_context io;
  std::vector<asio::ip::tcp::socket> sockets;
  for (int i = 0; i < connections; ++i) sockets.push_back(connect_to(io, serve.port()));
  const std::string request =
      "POST /record HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4000\r\n\r\n" + std::string(4000, '{');
  const auto end = std::chrono::steady_clock::now() + duration;
  for (std::size_t at = 0; std::chrono::steady_clock::now() < end && at < request.size(); ++at) {
    for (auto& s : sockets) {
      boost::system::error_code ec;
      asio::write(s, asio::buffer(request.data() + at, 1), ec);
    }
    std::this_thread::sleep_for(20ms);
  }
}

TEST_F(ServiceIoTest, HundredsOfSlowClientsTimingOutMidRequestDoNotHarmTheService) {
  for (const bool keys : {false, true}) {
    TempDir dir("vncgate-serve-drip");
    // 300 connections from one address: above the default per-client cap, which this test is not about.
    ServeOptions options{
        .data_dir = dir.path(),
        .extra_args = {"--set", "server.request_timeout_s=1", "--set", "server.max_connections_per_client=1000"}};
    if (keys) options.env = {{"VNCGATE_SERVER_API_KEYS", "drip-key"}};
    ServeProcess serve(options);
    serve.start();
    drip(serve, 300, 4s);
    ASSERT_TRUE(serve.running()) << (keys ? "with" : "without") << " API keys\n" << serve.log_tail();
    EXPECT_EQ(serve.request("GET", "/healthz").status, 200);
  }
}

TEST_F(ServiceIoTest, ADownloadSlowerThanTheRequestTimeoutCompletesByteForByte) {
  TempDir dir("vncgate-serve-slowdl");
  ServeProcess serve(ServeOptions{.data_dir = dir.path(),
                                  .targets = {"demo=" + guest_->vnc_url()},
                                  .extra_args = {"--set", "server.request_timeout_s=1"}});
  serve.start();
  const auto job = record_one(serve);
  // A big recording in its place in storage: what the API serves is the stored object, whatever its size.
  const auto object = dir.path() + "/recordings/" + job.at("bucket_id").get<std::string>() + "/segment-001.mp4";
  ASSERT_TRUE(fs::exists(object));
  const auto content = random_bytes(24 << 20, 1);
  write_file(object, content);
  const std::string path = "/api/v1/recordings/" + job.at("job_id").get<std::string>() + "/segments/1";
  const auto started = std::chrono::steady_clock::now();
  std::string body;
  try {
    body = slow_get(serve.port(), path, 6 << 20);  // ~4 s at 6 MB/s, request timeout 1 s
  } catch (const std::exception& e) {
    FAIL() << e.what() << "\n" << serve.log_tail();
  }
  EXPECT_GT(std::chrono::steady_clock::now() - started, 3s);
  EXPECT_TRUE(body == content) << "the download differs from the object";
  // Range and HEAD on the same object.
  const auto part = serve.request("GET", path, {}, {{"Range", "bytes=1000000-1000099"}});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, content.substr(1000000, 100));
  EXPECT_EQ(serve.request("HEAD", path).header("Content-Length"), std::to_string(content.size()));
}

TEST_F(ServiceIoTest, ParallelSlowDownloadsOfALargeSegmentKeepMemoryBounded) {
  TempDir dir("vncgate-serve-paralleldl");
  ServeProcess serve(ServeOptions{.data_dir = dir.path(), .targets = {"demo=" + guest_->vnc_url()}});
  serve.start();
  const auto job = record_one(serve);
  const auto object = dir.path() + "/recordings/" + job.at("bucket_id").get<std::string>() + "/segment-001.mp4";
  const auto content = random_bytes(64 << 20, 2);
  write_file(object, content);
  const std::string path = "/api/v1/recordings/" + job.at("job_id").get<std::string>() + "/segments/1";
  const auto before = rss_of(serve.pid());
  std::atomic<std::size_t> peak{before};
  std::atomic<int> good{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 10; ++i)
    readers.emplace_back([&] {
      if (slow_get(serve.port(), path, 12 << 20) == content) ++good;  // ~5 s each
    });
  std::atomic<bool> done{false};
  std::thread sampler([&] {
    while (!done) {
      peak = std::max<std::size_t>(peak, rss_of(serve.pid()));
      std::this_thread::sleep_for(100ms);
    }
  });
  for (auto& t : readers) t.join();
  done = true;
  sampler.join();
  EXPECT_EQ(good, 10);
  const double grew_mib = static_cast<double>(peak - before) / (1 << 20);
  std::printf("RSS %.1f MiB before, peak %.1f MiB during 10 downloads of 64 MiB (+%.1f MiB)\n",
              static_cast<double>(before) / (1 << 20), static_cast<double>(peak) / (1 << 20), grew_mib);
  EXPECT_LT(grew_mib, 32) << "downloads are streamed, not held in memory";
}

// A viewer asks for updates of a console that prints every second; returns the longest gap between updates
// over `duration`.
std::chrono::milliseconds longest_gap(rfb::BlockingClient& viewer, std::chrono::milliseconds duration) {
  const auto end = std::chrono::steady_clock::now() + duration;
  auto last = std::chrono::steady_clock::now();
  std::chrono::milliseconds gap{0};
  while (std::chrono::steady_clock::now() < end) {
    if (viewer.next_update(500ms)) {
      const auto now = std::chrono::steady_clock::now();
      gap = std::max(gap, std::chrono::duration_cast<std::chrono::milliseconds>(now - last));
      last = now;
    }
  }
  return std::max(gap, std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - last));
}

// gateway.heartbeat_s reaches the live process's viewers: an idle WebSocket viewer (it answers pings, as
// browsers do, and sends nothing else) gets a ping first, then unsolicited pongs, on a 5 s beat, and is not cut off.
TEST_F(ServiceIoTest, IdleViewersGetTheConfiguredHeartbeat) {
  namespace websocket = boost::beast::websocket;
  using Clock = std::chrono::steady_clock;
  TempDir dir("vncgate-serve-heartbeat");
  ServeProcess serve(ServeOptions{.data_dir = dir.path(),
                                  .targets = {"demo=" + guest_->vnc_url()},
                                  .extra_args = {"--set", "gateway.heartbeat_s=5"}});
  serve.start();
  const auto link = serve.json("POST", "/api/v1/sessions", R"({"target": "demo"})", 201);
  const auto token = link.at("url").get<std::string>().substr(std::string("/console/").size());

  asio::io_context io;
  websocket::stream<boost::beast::tcp_stream> ws(io);
  boost::beast::get_lowest_layer(ws).connect(
      {asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(serve.port())});
  ws.handshake("127.0.0.1:" + std::to_string(serve.port()), "/ws/" + token);
  std::vector<std::pair<Clock::time_point, websocket::frame_type>> beats;
  ws.control_callback(
      [&](websocket::frame_type kind, boost::beast::string_view) { beats.emplace_back(Clock::now(), kind); });
  const auto opened = Clock::now();
  boost::system::error_code failed;
  boost::beast::flat_buffer buffer;
  std::function<void()> read = [&] {  // the server's ProtocolVersion, then nothing: the viewer never answers it
    ws.async_read(buffer, [&](boost::system::error_code ec, std::size_t) {
      if (ec) {
        failed = ec;
        return;
      }
      buffer.clear();
      read();
    });
  };
  read();
  io.run_for(17s);
  EXPECT_FALSE(failed) << "the idle viewer was cut off: " << failed.message();
  ASSERT_GE(beats.size(), 3u) << "heartbeats every 5 s";
  EXPECT_EQ(beats[0].second, websocket::frame_type::ping);
  EXPECT_EQ(beats[1].second, websocket::frame_type::pong);
  EXPECT_LE(beats[0].first - opened, 7s);  // the interval, plus the rest of a grid step (1 s at this interval)
  for (std::size_t i = 1; i < beats.size(); ++i) {
    EXPECT_GE(beats[i].first - beats[i - 1].first, 4500ms);
    EXPECT_LE(beats[i].first - beats[i - 1].first, 5500ms);
  }
}

TEST_F(ServiceIoTest, AStalledS3DoesNotStallLiveConsoles) {
  TempDir dir("vncgate-serve-s3stall");
  S3rver s3(dir.file("s3"), dir.file("s3rver.log"));
  TcpProxy proxy(s3.port());
  ServeProcess serve(ServeOptions{.data_dir = dir.path(),
                                  .storage_url = "s3://127.0.0.1:" + std::to_string(proxy.port()) + "?tls=off",
                                  .targets = {"demo=" + guest_->vnc_url()},
                                  .env = {{"VNCGATE_S3_ACCESS_KEY", "S3RVER"}, {"VNCGATE_S3_SECRET_KEY", "S3RVER"}}});
  serve.start();
  const auto job = record_one(serve);
  const std::string path = "/api/v1/recordings/" + job.at("job_id").get<std::string>() + "/segments/1";

  const auto link = serve.json("POST", "/api/v1/sessions", R"({"target": "demo"})", 201);
  const auto token = link.at("url").get<std::string>().substr(std::string("/console/").size());
  rfb::BlockingClient viewer(io::Endpoint{.url = "ws://127.0.0.1:" + std::to_string(serve.port()) + "/ws/" + token},
                             rfb::ClientOptions{}, 20s);
  viewer.full_update(20s);
  EXPECT_LT(longest_gap(viewer, 3s), 2500ms) << "the console ticks every second";

  // Storage stops answering; downloads and readiness checks hang on it meanwhile (more of them than the
  // service has network threads).
  proxy.stall(true);
  std::vector<std::thread> stuck;
  struct Release {  // also when a check below throws: storage answers again and the clients finish
    TcpProxy& proxy;
    std::vector<std::thread>& threads;
    ~Release() {
      proxy.stall(false);
      for (auto& t : threads)
        if (t.joinable()) t.join();
    }
  } release{proxy, stuck};
  for (int i = 0; i < 6; ++i)
    stuck.emplace_back([&] {
      try {
        serve.request("GET", path);
      } catch (const std::exception&) {  // the client's own timeout: fine, the point is the console
      }
    });
  std::this_thread::sleep_for(500ms);
  const auto gap = longest_gap(viewer, 6s);
  EXPECT_LT(gap, 2500ms) << "the console stalled with the storage";
  EXPECT_EQ(serve.request("GET", "/healthz").status, 200);
  // The readiness check probes with a short timeout of its own: it sees the stall instead of hanging in it.
  const auto not_ready_by = std::chrono::steady_clock::now() + 15s;
  int ready_status = 0;
  while ((ready_status = serve.request("GET", "/readyz").status) != 503 &&
         std::chrono::steady_clock::now() < not_ready_by)
    std::this_thread::sleep_for(500ms);
  EXPECT_EQ(ready_status, 503) << "storage stalled for 15 s and still reported ready";
  proxy.stall(false);
  for (auto& t : stuck) t.join();
  EXPECT_EQ(serve.request("GET", path, {}, {{"Range", "bytes=4-7"}}).body, "ftyp") << "storage answers again";
}

}  // namespace
}  // namespace vncgate::test
