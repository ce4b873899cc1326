// SPDX-License-Identifier: Apache-2.0
#include "record/transcriber.hpp"

#include <pthread.h>

#include <algorithm>
#include <fstream>

#include "util/log.hpp"

namespace vncgate::record {

// The reader thread's state (a local of run()).
struct Transcriber::Reader {
  Reader(text::TranscriptOptions options, std::shared_ptr<const text::GlyphLibrary> library)
      : writer(file, options, std::move(library)) {}

  std::ofstream file;  // before the writer, which keeps a pointer to it
  text::TranscriptWriter writer;
  std::string path;
  bool open = false;
  std::int64_t start_ms = 0, last_ms = 0;
  framebuffer::PixelBuffer last;  // the last frame read; empty before the first
};

namespace {

std::uint32_t offset(std::int64_t t_ms, std::int64_t start_ms) {
  return static_cast<std::uint32_t>(std::clamp<std::int64_t>(t_ms - start_ms, 0, UINT32_MAX));
}

}  // namespace

Transcriber::Transcriber(text::TranscriptOptions options, std::shared_ptr<const text::GlyphLibrary> library)
    : options_(options), library_(std::move(library)), thread_([this] { run(); }) {}

Transcriber::~Transcriber() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void Transcriber::begin(std::string path, std::int64_t start_ms) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back({Item::begin, std::move(path), start_ms, {}});
  }
  wake_.notify_one();
}

void Transcriber::frame(const framebuffer::PixelBuffer& pixels, std::int64_t t_ms) {
  {
    std::lock_guard lock(mutex_);
    // Frames wait in order (each keeps its own time) up to kMaxWaiting; beyond, the newest waiting one is
    // overwritten: its changes are then in the new one's difference, stamped with the new one's time.
    const auto waiting =
        std::count_if(queue_.begin(), queue_.end(), [](const Item& i) { return i.kind == Item::frame; });
    if (queue_.empty() || queue_.back().kind != Item::frame || waiting < kMaxWaiting) {
      queue_.push_back({Item::frame, {}, t_ms, {}});
      if (!spare_.empty()) {
        queue_.back().pixels = std::move(spare_.back());
        spare_.pop_back();
      }
    }
    auto& item = queue_.back();
    item.t_ms = t_ms;
    pixels.copy_to(item.pixels);
  }
  wake_.notify_one();
}

bool Transcriber::end(std::int64_t end_ms) {
  std::unique_lock lock(mutex_);
  queue_.push_back({Item::end, {}, end_ms, {}});
  const auto ticket = ++ends_asked_;
  wake_.notify_one();
  ended_.wait(lock, [&] { return ends_done_ >= ticket; });
  return last_end_ok_;
}

void Transcriber::run() {
  // Named for `top -H` and bench/record.sh, which measures what reading the text costs from this thread's CPU.
  pthread_setname_np(pthread_self(), "vg-transcript");
  Reader r(options_, library_ ? library_ : text::GlyphLibrary::installed());
  auto close = [&](std::int64_t end_ms) {
    if (!r.open) return false;
    r.open = false;
    r.writer.finish(offset(end_ms, r.start_ms));
    r.file.close();
    if (r.file.fail()) {
      spdlog::warn("transcript: cannot write {}", r.path);
      return false;
    }
    return true;
  };
  // Returns what end() reports for an `end` item.
  auto apply = [&](Item& item) -> bool {
    switch (item.kind) {
      case Item::begin:
        close(r.last_ms);  // an end that never came
        r.path = item.path;
        r.start_ms = item.t_ms;
        r.file.clear();
        r.file.open(r.path, std::ios::binary | std::ios::trunc);
        r.open = r.file.is_open();
        if (!r.open) spdlog::warn("transcript: cannot create {}", r.path);
        r.writer.restart(r.file);  // the screen so far, as the new file's first keyframe
        return true;
      case Item::frame: {
        r.last_ms = item.t_ms;
        // Compared with the previous frame row by row inside (a scroll is found, not read again).
        r.writer.frame(offset(item.t_ms, r.start_ms), item.pixels, r.last);
        std::swap(r.last, item.pixels);  // the item takes the old buffer back to spare_
        return true;
      }
      case Item::end: return close(item.t_ms);
    }
    return false;
  };
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) break;  // stopping, nothing left
    Item item = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    bool ok = false;
    try {
      ok = apply(item);
    } catch (const std::exception& e) {  // never the recording's failure
      spdlog::warn("transcript: {}: {}", r.path, e.what());
    }
    lock.lock();
    if (item.kind == Item::frame && item.pixels.width() > 0 && spare_.size() < 2)
      spare_.push_back(std::move(item.pixels));
    if (item.kind == Item::end) {
      last_end_ok_ = ok;
      ++ends_done_;
      ended_.notify_all();
    }
  }
  lock.unlock();
  close(r.last_ms);  // a segment the recorder left open (it failed): the transcript stays readable
}

}  // namespace vncgate::record
