// SPDX-License-Identifier: Apache-2.0
#include "gateway/live_text.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>

#include "util/log.hpp"

namespace vncgate::gateway {

bool TextWaiter::settle(const ScreenText& screen) {
  std::lock_guard lock(mutex);
  if (settled) return false;
  settled = true;
  result = screen;
  return true;
}

LiveText::LiveText(boost::asio::any_io_executor reader) : reader_(std::move(reader)) {}

void LiveText::add(std::shared_ptr<TextWaiter> waiter) {
  std::lock_guard lock(mutex_);
  if (closed_) {
    ScreenText gone;
    gone.closed = true;
    if (waiter->settle(gone) && waiter->wake) waiter->wake();
    return;
  }
  waiters_.push_back(std::move(waiter));
}

bool LiveText::wanted() {
  std::lock_guard lock(mutex_);
  std::erase_if(waiters_, [](const auto& w) {
    std::lock_guard wl(w->mutex);
    return w->settled;
  });
  return !waiters_.empty();
}

void LiveText::frame(const framebuffer::PixelBuffer& picture) {
  bool post = false;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    picture.copy_to(pending_);
    has_pending_ = true;
    post = !reading_;
    reading_ = true;
  }
  if (post) boost::asio::post(reader_, [self = shared_from_this()] { self->read(); });
}

void LiveText::read() {
  framebuffer::PixelBuffer picture;
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (!has_pending_ || closed_) {
        reading_ = false;
        return;
      }
      std::swap(picture, pending_);
      has_pending_ = false;
    }
    ScreenText now;
    try {
      if (!screen_) screen_.emplace();  // the first use loads the installed fonts (~0.1 s): here, not on a strand
      screen_->update(picture, read_);
      now.is_text = screen_->is_text();
      if (now.is_text) {
        now.columns = screen_->columns();
        now.rows = screen_->rows();
        now.lines = screen_->lines();
        now.text = screen_->text();
      }
    } catch (const std::exception& e) {  // reading never takes the session down
      spdlog::warn("live text: {}", e.what());
    }
    std::swap(read_, picture);
    std::vector<std::shared_ptr<TextWaiter>> woken;
    {
      std::lock_guard lock(mutex_);
      last_ = now;
      std::erase_if(waiters_, [&](const auto& w) {
        const bool match = w->needle.empty() || now.text.find(w->needle) != std::string::npos;
        if (match && w->settle(now)) woken.push_back(w);
        std::lock_guard wl(w->mutex);
        return w->settled;
      });
    }
    for (auto& w : woken)
      if (w->wake) w->wake();
  }
}

void LiveText::close() {
  std::vector<std::shared_ptr<TextWaiter>> waiters;
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    waiters.swap(waiters_);
  }
  ScreenText gone;
  gone.closed = true;
  for (auto& w : waiters)
    if (w->settle(gone) && w->wake) w->wake();
}

ScreenText LiveText::last() {
  std::lock_guard lock(mutex_);
  return last_;
}

}  // namespace vncgate::gateway
