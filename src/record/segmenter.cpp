// SPDX-License-Identifier: Apache-2.0
#include "record/segmenter.hpp"

#include <stdexcept>

namespace vncgate::record {

Segmenter::Segmenter(std::int64_t duration_ms, int count, Open open, Closed closed, std::int64_t keepalive_ms)
    : duration_ms_(duration_ms),
      count_(count),
      open_(std::move(open)),
      closed_(std::move(closed)),
      keepalive_ms_(keepalive_ms) {
  if (duration_ms <= 0 || count <= 0) throw std::invalid_argument("segment duration and count must be positive");
}

Segmenter::~Segmenter() = default;

void Segmenter::close_current(std::int64_t end_ms) {
  if (!sink_) return;
  const auto stats = sink_->finish(end_ms);
  sink_.reset();
  if (closed_) closed_(index_, index_ * duration_ms_, end_ms, stats);
}

// Closes every segment whose end is at or before t_ms; each next one starts with the held screen.
void Segmenter::roll_to(std::int64_t t_ms) {
  while (!done() && t_ms >= (index_ + 1) * duration_ms_) {
    const std::int64_t boundary = (index_ + 1) * duration_ms_;
    close_current(boundary);
    ++index_;
    if (done() || !has_held_) continue;
    sink_ = open_(index_, boundary);
    held_.expand();
    sink_->write(held_, boundary);
    last_write_ms_ = boundary;
  }
}

framebuffer::PixelBuffer Segmenter::frame(framebuffer::PixelBuffer frame, std::int64_t t_ms) {
  roll_to(t_ms);
  if (done()) return frame;
  std::swap(held_, frame);
  has_held_ = true;
  if (!sink_) sink_ = open_(index_, index_ * duration_ms_);
  sink_->write(held_, t_ms);
  last_write_ms_ = t_ms;
  if (frame.compacted()) return {};  // not reusable as a buffer
  return frame;
}

void Segmenter::compact_held() {
  if (has_held_) held_.compact();
}

void Segmenter::advance(std::int64_t t_ms) {
  roll_to(t_ms);
  if (done() || !sink_) return;
  if (t_ms - last_write_ms_ >= keepalive_ms_) {
    sink_->repeat(t_ms);
    last_write_ms_ = t_ms;
  }
}

std::optional<std::int64_t> Segmenter::next_deadline() const {
  if (done()) return std::nullopt;
  const std::int64_t boundary = (index_ + 1) * duration_ms_;
  if (!sink_) return boundary;
  return std::min(boundary, last_write_ms_ + keepalive_ms_);
}

void Segmenter::stop(std::int64_t t_ms) {
  if (done()) return;
  roll_to(t_ms);
  if (done()) return;
  close_current(std::max(t_ms, last_write_ms_ + 1));
  stopped_ = true;
}

}  // namespace vncgate::record
