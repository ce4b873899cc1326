// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstddef>
#include <memory>
#include <vector>

#include "io/endpoint.hpp"

namespace vncgate::io {

namespace asio = boost::asio;

// One ordered, reliable byte stream to a peer, whatever carries it (TCP, TLS, WebSocket binary frames).
// Knows nothing of RFB. One reader and one writer may be active at a time (not two reads at once). Errors
// throw IoError (EndOfStream on a clean close by the peer).
class ByteStream {
 public:
  virtual ~ByteStream() = default;
  // Reads at least one byte into `buffer`.
  virtual asio::awaitable<std::size_t> read_some(asio::mutable_buffer buffer) = 0;
  // Writes all of `buffer`.
  virtual asio::awaitable<void> write(asio::const_buffer buffer) = 0;
  // Writes all of `buffers`, in order, as one write where the transport allows: one writev on TCP, one
  // WebSocket message (so shared bytes go out without being copied into a per-peer buffer first).
  virtual asio::awaitable<void> write_gather(const std::vector<asio::const_buffer>& buffers);
  // Closes the stream, cancelling pending operations. Idempotent, never throws.
  virtual void close() = 0;
};

// Connects to `endpoint` (TCP/TLS handshake, WebSocket upgrade) on `executor`.
asio::awaitable<std::unique_ptr<ByteStream>> connect(asio::any_io_executor executor, const Endpoint& endpoint);

// Wraps an accepted TCP connection (a raw RFB viewer) as a ByteStream; sets TCP_NODELAY.
std::unique_ptr<ByteStream> adopt_tcp(asio::ip::tcp::socket socket);

}  // namespace vncgate::io
