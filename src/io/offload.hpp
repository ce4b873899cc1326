// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <type_traits>
#include <utility>

namespace vncgate::io {

// Runs `f` (which may block: a database, a file, storage) on `pool` and resumes the calling coroutine on its
// own executor (its strand) with the result; an exception from `f` is rethrown there. The caller's thread is
// free meanwhile: this is how work that blocks leaves the threads carrying network I/O. The result type must
// be default-constructible and movable; `f` is copied.
// g++ 12 destroys non-trivial temporaries of a co_await expression twice: in a coroutine, name the
// function object first and pass it as an lvalue, so the awaitable is the expression's only temporary.
template <class F>
boost::asio::awaitable<std::invoke_result_t<F&>> offload(const boost::asio::any_io_executor& pool, const F& f) {
  using Result = std::invoke_result_t<F&>;
  return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void(std::exception_ptr, Result)>(
      [](auto handler, boost::asio::any_io_executor on, F work) {
        boost::asio::post(on, [handler = std::move(handler), work = std::move(work)]() mutable {
          std::exception_ptr error;
          Result result{};
          try {
            result = work();
          } catch (...) {
            error = std::current_exception();
          }
          auto resume_on = boost::asio::get_associated_executor(handler);
          boost::asio::dispatch(resume_on, [handler = std::move(handler), error, result = std::move(result)]() mutable {
            std::move(handler)(error, std::move(result));
          });
        });
      },
      boost::asio::use_awaitable, pool, f);
}

}  // namespace vncgate::io
