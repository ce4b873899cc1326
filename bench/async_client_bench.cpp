// SPDX-License-Identifier: Apache-2.0
// vncgate_async_client_bench: how fast AsyncClient takes in a Raw 1280x800 stream over loopback TCP, by read
// buffer size (the buffer stays resident in every idle gateway session, so smaller is better if it costs
// no throughput).
//
//   vncgate_async_client_bench [--benchmark_* flags]
//
// An in-process server sends the handshake and then 10 Raw full frames back to back; the client decodes them
// into its framebuffer. bytes_per_second counts wire bytes.
#include <benchmark/benchmark.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cstring>
#include <string>
#include <vector>

#include "framebuffer/test_frames.hpp"
#include "rfb/async_client.hpp"

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace vncgate;

constexpr int kWidth = 1280, kHeight = 800, kFrames = 10;

void put_u16(std::vector<std::uint8_t>& b, unsigned v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}

// RFB 3.8, security None, ServerInit in the canonical format (so the client sends no SetPixelFormat change).
std::vector<std::uint8_t> handshake() {
  const std::string greeting = "RFB 003.008\n";
  std::vector<std::uint8_t> b(greeting.begin(), greeting.end());
  b.insert(b.end(), {1, 1, 0, 0, 0, 0});  // one type (None), result OK
  put_u16(b, kWidth);
  put_u16(b, kHeight);
  const auto pf = rfb::PixelFormat::canonical().serialize();
  b.insert(b.end(), pf.begin(), pf.end());
  b.insert(b.end(), {0, 0, 0, 5, 'b', 'e', 'n', 'c', 'h'});
  return b;
}

// One FramebufferUpdate with a Raw rectangle of the whole screen (canonical pixels are little-endian u32).
std::vector<std::uint8_t> raw_frame() {
  const auto picture = framebuffer::test::text_console(kWidth, kHeight);
  std::vector<std::uint8_t> b{0, 0, 0, 1};
  put_u16(b, 0);
  put_u16(b, 0);
  put_u16(b, kWidth);
  put_u16(b, kHeight);
  b.insert(b.end(), {0, 0, 0, 0});
  const auto* px = reinterpret_cast<const std::uint8_t*>(picture.pixels().data());
  b.insert(b.end(), px, px + picture.pixels().size_bytes());
  return b;
}

asio::awaitable<void> serve(tcp::acceptor& acceptor, const std::vector<std::uint8_t>& frame) {
  auto socket = co_await acceptor.async_accept(asio::use_awaitable);
  co_await asio::async_write(socket, asio::buffer(handshake()), asio::use_awaitable);
  for (int i = 0; i < kFrames; ++i) co_await asio::async_write(socket, asio::buffer(frame), asio::use_awaitable);
  // Drain the client's messages until it hangs up: closing with unread bytes would reset the connection and
  // drop frames still in flight.
  std::uint8_t sink[256];
  for (;;) co_await socket.async_read_some(asio::buffer(sink), asio::use_awaitable);
}

struct Counter : rfb::ClientListener {
  rfb::AsyncClient* client = nullptr;
  int updates = 0;
  void on_update(const framebuffer::Rect&) override {
    if (++updates == kFrames) client->close();
  }
};

void bm_raw_stream(benchmark::State& state) {
  static const std::vector<std::uint8_t> frame = raw_frame();
  rfb::ClientOptions options;
  options.encodings = {rfb::Encoding::raw};
  for (auto _ : state) {
    asio::io_context io;
    tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
    asio::co_spawn(io, serve(acceptor, frame), [](std::exception_ptr) {});  // ends when the client closes
    Counter counter;
    auto client = std::make_shared<rfb::AsyncClient>(io.get_executor(), options, &counter,
                                                     static_cast<std::size_t>(state.range(0)) * 1024);
    counter.client = client.get();
    const io::Endpoint endpoint{"vnc://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port())};
    asio::co_spawn(io, client->run(endpoint), [](std::exception_ptr) {});  // ends with close(): expected
    io.run();
    if (counter.updates != kFrames) state.SkipWithError("the stream ended early");
  }
  state.SetBytesProcessed(state.iterations() * kFrames * static_cast<std::int64_t>(frame.size()));
}

BENCHMARK(bm_raw_stream)->Arg(4)->Arg(16)->Arg(64)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
