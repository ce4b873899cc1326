// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <vector>

#include "io/byte_stream.hpp"
#include "io/output.hpp"

namespace vncgate::io {

// Drains what an owner has to send to one ByteStream, with at most one writer coroutine at a time: kick()
// starts one when none runs; it writes whatever `next()` hands out (each Output as one gather write) until it
// hands out nothing. The writer runs
// on `executor` (the owner's strand: next() and failed() are called there) and holds `owner` while it runs, so
// the owner, the stream and this object stay alive until it ends: no sleeps or alive flags. A failed write goes
// to `failed`; the writer then stops. Not thread-safe: use it on the owner's strand.
class StreamWriter {
 public:
  using Next = std::function<Output()>;  // empty: nothing to write now
  using Failed = std::function<void(std::exception_ptr)>;

  StreamWriter(Next next, Failed failed) : next_(std::move(next)), failed_(std::move(failed)) {}
  StreamWriter(const StreamWriter&) = delete;
  StreamWriter& operator=(const StreamWriter&) = delete;

  void kick(const asio::any_io_executor& executor, ByteStream& stream, std::shared_ptr<void> owner);
  bool writing() const { return writing_; }

 private:
  asio::awaitable<void> run(ByteStream& stream, std::shared_ptr<void> owner);

  Next next_;
  Failed failed_;
  bool writing_ = false;
};

}  // namespace vncgate::io
