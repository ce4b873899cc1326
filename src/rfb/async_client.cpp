// SPDX-License-Identifier: Apache-2.0
#include "rfb/async_client.hpp"

#include <boost/asio/use_awaitable.hpp>

#include "util/error.hpp"

namespace vncgate::rfb {

namespace asio = boost::asio;

AsyncClient::AsyncClient(asio::any_io_executor executor, ClientOptions options, ClientListener* listener,
                         std::size_t read_buffer_size)
    : executor_(std::move(executor)),
      conn_(std::move(options), listener),
      read_buffer_(read_buffer_size),
      writer_([this] { return closed_ ? io::Output{} : io::Output(conn_.take_output()); },
              [this](std::exception_ptr e) { fail(e); }) {}

AsyncClient::~AsyncClient() { close(); }

void AsyncClient::fail(std::exception_ptr e) {
  if (!error_) error_ = e;
  close();
}

void AsyncClient::close() {
  closed_ = true;
  if (stream_) stream_->close();
}

asio::awaitable<void> AsyncClient::run(io::Endpoint endpoint) {
  auto self = shared_from_this();
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

void AsyncClient::flush() {
  if (closed_ || !stream_ || !conn_.has_output()) return;
  writer_.kick(executor_, *stream_, shared_from_this());
}

}  // namespace vncgate::rfb
