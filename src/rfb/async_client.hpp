// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <exception>
#include <memory>
#include <vector>

#include "io/byte_stream.hpp"
#include "io/endpoint.hpp"
#include "io/stream_writer.hpp"
#include "rfb/client_connection.hpp"

namespace vncgate::rfb {

// Joins a ClientConnection to a byte stream on an Asio executor (a strand): run() reads and feeds, a
// StreamWriter drains what the connection queued. Everything runs on that executor. Create it with
// std::make_shared: run() and the writer hold it while they run, so an owner may drop its pointer right after
// close(). Drivers for one-shot tools (BlockingClient) and long-lived sinks (UpstreamLink: the recorder and the
// gateway) build on it.
class AsyncClient : public std::enable_shared_from_this<AsyncClient> {
 public:
  // Bytes read per read_some(). Resident for as long as the client lives (an idle gateway session holds
  // one), so kept small: bench/async_client_bench compares sizes on a Raw 1280x800 stream.
  static constexpr std::size_t kReadBufferSize = 16 * 1024;

  AsyncClient(boost::asio::any_io_executor executor, ClientOptions options, ClientListener* listener = nullptr,
              std::size_t read_buffer_size = kReadBufferSize);
  ~AsyncClient();
  AsyncClient(const AsyncClient&) = delete;
  AsyncClient& operator=(const AsyncClient&) = delete;

  ClientConnection& connection() { return conn_; }
  // Connects, then processes server messages until the stream fails or close() is called. Throws the first
  // fault (IoError, AuthError, ProtocolError; EndOfStream when the server hung up).
  boost::asio::awaitable<void> run(io::Endpoint endpoint);
  // Sends what the connection has queued (update requests, input). Call after the connection's send_*.
  void flush();
  // Closes the stream; run() then ends. Idempotent.
  void close();
  bool closed() const { return closed_; }

 private:
  void fail(std::exception_ptr e);

  boost::asio::any_io_executor executor_;
  ClientConnection conn_;
  std::unique_ptr<io::ByteStream> stream_;
  std::vector<std::uint8_t> read_buffer_;
  std::exception_ptr error_;
  io::StreamWriter writer_;
  bool closed_ = false;
};

}  // namespace vncgate::rfb
