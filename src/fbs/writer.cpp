// SPDX-License-Identifier: Apache-2.0
#include "fbs/writer.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "fbs/format.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace vncgate::fbs {
namespace {

// One unit taller than this is split over several blocks, so a block never needs a huge buffer to read.
constexpr std::size_t kMaxWrittenBlock = 1u << 20;

// A time mark: a FramebufferUpdate (type 0, padding) with zero rectangles — plain RFB that every FBS reader
// and RFB client accepts, and that paints nothing (docs/fbs.md §2).
constexpr std::uint8_t kTimeMark[] = {0, 0, 0, 0};

std::FILE* open_or_throw(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) throw IoError("cannot create " + path + ": " + std::strerror(errno));
  return f;
}

// "RFB 003.003\n", security None as a 3.3 server sends it, ServerInit (RFC 6143 §7.3.2).
std::vector<std::uint8_t> prologue(const rfb::ServerInit& init, const rfb::PixelFormat& pinned) {
  const std::string_view version = "RFB 003.003\n";
  std::vector<std::uint8_t> out(version.begin(), version.end());
  put_u32(out, 1);
  out.push_back(static_cast<std::uint8_t>(init.width >> 8));
  out.push_back(static_cast<std::uint8_t>(init.width));
  out.push_back(static_cast<std::uint8_t>(init.height >> 8));
  out.push_back(static_cast<std::uint8_t>(init.height));
  const auto pf = pinned.serialize();
  out.insert(out.end(), pf.begin(), pf.end());
  put_u32(out, static_cast<std::uint32_t>(init.name.size()));
  out.insert(out.end(), init.name.begin(), init.name.end());
  return out;
}

}  // namespace

Writer::Writer(const std::string& path, const rfb::ServerInit& init, const rfb::PixelFormat& pinned,
               WriterOptions options)
    : path_(path), options_(options) {
  file_.reset(open_or_throw(path));
  index_.reset(open_or_throw(index_path_for(path)));
  write_file(file_.get(),
             std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(kMagic001.data()), kMagic001.size()),
             path_);
  offset_ = kMagic001.size();
  write_file(index_.get(), encode_index_header(), index_path_for(path_));
  block_ = prologue(init, pinned);
  flush();
}

Writer::~Writer() {
  try {
    close();
  } catch (const std::exception& e) {
    spdlog::error("fbs: closing {}: {}", path_, e.what());
  }
}

void Writer::write_file(std::FILE* f, std::span<const std::uint8_t> bytes, const std::string& what) {
  if (std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size())
    throw IoError("writing " + what + ": " + std::strerror(errno));
}

void Writer::append(std::span<const std::uint8_t> bytes, std::uint32_t ms) {
  if (!file_) throw std::logic_error("fbs::Writer::append after close");
  if (bytes.empty()) return;
  between_messages_ = false;
  ms = std::max(ms, last_ms_);
  while (!bytes.empty()) {
    if (block_.empty()) block_start_ms_ = ms;
    const std::size_t take = std::min(bytes.size(), kMaxWrittenBlock - block_.size());
    block_.insert(block_.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(take));
    bytes = bytes.subspan(take);
    last_ms_ = ms;
    if (block_.size() >= kMaxWrittenBlock) write_block();
  }
  if (block_.size() >= options_.block_bytes || (!block_.empty() && ms - block_start_ms_ >= options_.block_ms)) flush();
}

void Writer::update_boundary(std::uint32_t ms, bool screen_painted) {
  if (!file_) return;
  ms = std::max(ms, last_ms_);
  last_ms_ = ms;
  between_messages_ = true;
  painted_ = screen_painted;
  write_block();
  add_index_entry(ms, false);
  flush();
}

bool Writer::mark_time(std::uint32_t ms, bool index_it) {
  if (!file_ || !between_messages_) return false;
  write_block();  // the data before the mark keeps its own timestamp
  last_ms_ = std::max(ms, last_ms_);
  block_.assign(std::begin(kTimeMark), std::end(kTimeMark));
  write_block();
  add_index_entry(last_ms_, index_it);
  flush();
  return true;
}

void Writer::tick() {
  if (!file_ || !now_ms_) return;
  const std::uint32_t now = std::max(now_ms_(), last_ms_);
  if (!block_.empty() && now - block_start_ms_ >= options_.block_ms) flush();
  if (block_.empty() && now - last_write_ms_ >= options_.mark_interval_ms) mark_time(now);
}

// The next block starts at a message boundary reached at `ms`: worth an index entry once per interval.
void Writer::add_index_entry(std::uint32_t ms, bool force) {
  if (indexed_once_ && !force && ms - last_index_ms_ < options_.index_interval_ms) return;
  const IndexEntry entry{ms, offset_, painted_ ? kIndexScreenPainted : 0u};
  write_file(index_.get(), encode_index_entry(entry), index_path_for(path_));
  indexed_once_ = true;
  last_index_ms_ = ms;
}

// [u32 length][data][zero padding to 4][u32 ms], all big endian (docs/fbs.md §2).
void Writer::write_block() {
  if (block_.empty()) return;
  std::vector<std::uint8_t> framed;
  framed.reserve(block_.size() + 11);
  put_u32(framed, static_cast<std::uint32_t>(block_.size()));
  framed.insert(framed.end(), block_.begin(), block_.end());
  framed.resize(4 + padded4(block_.size()), 0);
  put_u32(framed, last_ms_);
  write_file(file_.get(), framed, path_);
  offset_ += framed.size();
  last_write_ms_ = last_ms_;
  block_.clear();
}

void Writer::flush() {
  if (!file_) return;
  write_block();
  if (std::fflush(file_.get()) != 0 || std::fflush(index_.get()) != 0)
    throw IoError("flushing " + path_ + ": " + std::strerror(errno));
}

void Writer::close(std::optional<std::uint32_t> end_ms) {
  if (!file_) return;
  if (!end_ms && now_ms_) end_ms = now_ms_();
  // Without a mark the file would end at the last thing the server said, not when the recording ended.
  if (end_ms) mark_time(*end_ms, true);
  flush();
  file_.reset();
  index_.reset();
}

std::function<void(std::span<const std::uint8_t>)> Writer::tap_for(const rfb::ClientConnection& conn,
                                                                   std::function<std::uint32_t()> now_ms) {
  now_ms_ = now_ms;
  // The tap runs after each parsed unit, so a changed update count means this unit ended an update, and a
  // unit outside an update is a whole message (the connection parses those in one step).
  return [this, &conn, now_ms = std::move(now_ms),
          updates = conn.updates_completed()](std::span<const std::uint8_t> unit) mutable {
    const std::uint32_t ms = now_ms();
    append(unit, ms);
    if (conn.updates_completed() != updates) {
      updates = conn.updates_completed();
      update_boundary(ms, conn.frame_complete());
    } else if (!conn.in_update()) {
      message_boundary();
    }
  };
}

LazyWriter::LazyWriter(rfb::ClientConnection& conn, std::string path, std::function<std::uint32_t()> now_ms,
                       WriterOptions options) {
  conn.set_tap(
      [this, &conn, path = std::move(path), now_ms = std::move(now_ms), options,
       tap = std::function<void(std::span<const std::uint8_t>)>()](std::span<const std::uint8_t> unit) mutable {
        if (!tap) {
          writer_ = std::make_unique<Writer>(path, conn.server_init(), conn.converter().format(), options);
          tap = writer_->tap_for(conn, now_ms);
        }
        tap(unit);
      });
}

}  // namespace vncgate::fbs
