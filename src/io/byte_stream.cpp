// SPDX-License-Identifier: Apache-2.0
#include "io/byte_stream.hpp"

#include <spdlog/spdlog.h>

#include "io/transport_detail.hpp"
#include "util/error.hpp"

namespace vncgate::io {

asio::awaitable<void> ByteStream::write_gather(const std::vector<asio::const_buffer>& buffers) {
  for (const auto& b : buffers) co_await write(b);
}

asio::awaitable<std::unique_ptr<ByteStream>> connect(asio::any_io_executor executor, const Endpoint& endpoint) {
  std::string reason;
  const auto url = parse_url(endpoint.url, &reason);
  if (!url) throw Error(ErrorCategory::config, "endpoint URL " + redact_url(endpoint.url) + ": " + reason);
  spdlog::debug("connecting to {}", redact_url(endpoint.url));
  if (url->scheme == "vnc") co_return co_await detail::connect_tcp(std::move(executor), endpoint, *url);
  if (url->scheme == "vncs") co_return co_await detail::connect_tls(std::move(executor), endpoint, *url);
  co_return co_await detail::connect_websocket(std::move(executor), endpoint, *url);
}

}  // namespace vncgate::io
