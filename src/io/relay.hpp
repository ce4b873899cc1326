// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <memory>

#include "io/byte_stream.hpp"

namespace vncgate::io {

// Copies bytes both ways between `a` and `b` until either side ends or fails, then closes both. Both directions
// run on `strand` (the executor both streams were made on), so the streams are never used from two threads.
// Returns at once; the streams live until the relay ends.
void relay(asio::any_io_executor strand, std::unique_ptr<ByteStream> a, std::unique_ptr<ByteStream> b);

}  // namespace vncgate::io
