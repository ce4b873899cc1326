// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "framebuffer/pixel_buffer.hpp"
#include "text/text_screen.hpp"

namespace vncgate::gateway {

// A live session's screen as text (docs/text.md), as a waiter receives it.
struct ScreenText {
  bool closed = false;   // the session ended before the screen could be read
  bool is_text = false;  // the screen reads as text (else the fields below are empty)
  int columns = 0, rows = 0;
  std::vector<std::string> lines;
  std::string text;  // lines joined by '\n', trailing blank rows dropped
};

// Someone waiting for the screen: `needle` empty = the next reading of it, else the first reading that contains
// `needle`. `wake` is called (on the reader's thread) once `result` is set; a waiter that gave up sets
// `settled` itself and is dropped at the next reading.
struct TextWaiter {
  std::string needle;
  std::function<void()> wake;
  std::mutex mutex;
  bool settled = false;
  std::optional<ScreenText> result;
  // Sets the result unless settled already; true when it did (then wake() is due).
  bool settle(const ScreenText& screen);
};

// Reads a live session's screen off its strand: while anyone waits, the session hands over a copy of each
// complete picture (frame(), on the strand, which never waits), and the reading runs on `reader` (the
// blocking pool), one at a time, on the newest picture (older ones waiting are dropped, their changes are in
// the difference to the last picture read). Nobody waiting costs nothing: no copies, no reading.
// Thread-safe.
class LiveText : public std::enable_shared_from_this<LiveText> {
 public:
  explicit LiveText(boost::asio::any_io_executor reader);

  void add(std::shared_ptr<TextWaiter> waiter);
  // Someone waits: the session should hand over its pictures.
  bool wanted();
  // A complete picture (copied).
  void frame(const framebuffer::PixelBuffer& picture);
  // The session ended: every waiter gets `closed`.
  void close();
  // The last reading (is_text false before the first).
  ScreenText last();

 private:
  void read();  // on the reader

  boost::asio::any_io_executor reader_;
  std::mutex mutex_;
  std::vector<std::shared_ptr<TextWaiter>> waiters_;
  framebuffer::PixelBuffer pending_;  // the newest picture not read yet
  bool has_pending_ = false;
  bool reading_ = false;  // a read() is posted or running
  bool closed_ = false;
  ScreenText last_;
  // The reader's own (one read() at a time): the screen, and the picture it was read from.
  std::optional<text::TextScreen> screen_;
  framebuffer::PixelBuffer read_;
};

}  // namespace vncgate::gateway
