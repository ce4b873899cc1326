// SPDX-License-Identifier: Apache-2.0
#include "rfb/async_client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "util/error.hpp"

namespace vncgate::rfb {

namespace asio = boost::asio;

AsyncClient::AsyncClient(asio::any_io_executor executor, ClientOptions options, ClientListener* listener,
                         std::size_t read_buffer_size)
    : executor_(std::move(executor)), conn_(std::move(options), listener), read_buffer_(read_buffer_size) {}

AsyncClient::~AsyncClient() {
  *alive_ = false;
  close();
}

void AsyncClient::fail(std::exception_ptr e) {
  if (!error_) error_ = e;
  close();
}

void AsyncClient::close() {
  closed_ = true;
  if (stream_) stream_->close();
}

asio::awaitable<void> AsyncClient::run(io::Endpoint endpoint) {
  try {
    stream_ = co_await io::connect(executor_, endpoint);
    if (closed_) stream_->close();
    for (;;) {
      const auto n = co_await stream_->read_some(asio::buffer(read_buffer_));
      conn_.feed({read_buffer_.data(), n});
      flush();
    }
  } catch (...) {
    fail(std::current_exception());
  }
  std::rethrow_exception(error_);
}

// One writer at a time drains everything the connection has queued, in order.
void AsyncClient::flush() {
  if (writing_ || closed_ || !stream_ || !conn_.has_output()) return;
  writing_ = true;
  asio::co_spawn(
      executor_,
      [this, alive = alive_]() -> asio::awaitable<void> {
        try {
          while (*alive && conn_.has_output() && !closed_) {
            auto bytes = conn_.take_output();
            co_await stream_->write(asio::buffer(bytes));
          }
        } catch (...) {
          if (*alive) fail(std::current_exception());
        }
        if (*alive) writing_ = false;
      },
      asio::detached);
}

}  // namespace vncgate::rfb
