// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <boost/asio/buffer.hpp>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace vncgate::io {

// Bytes to send to one peer, in order, as pieces: owned ones, and shared immutable ones that many peers are
// sent without a copy each (one encoding of an update, written to every viewer). Each piece's owner keeps its
// bytes alive until the write is done; a shared piece must never change once shared. ByteStream::write_gather
// sends them as one write (one WebSocket message, one writev).
class Output {
 public:
  Output() = default;
  explicit Output(std::vector<std::uint8_t> bytes) { append(std::move(bytes)); }

  void append(std::vector<std::uint8_t> bytes) {
    if (bytes.empty()) return;
    auto owned = std::make_shared<const std::vector<std::uint8_t>>(std::move(bytes));
    const std::span<const std::uint8_t> view(*owned);
    append_shared(std::move(owned), view);
  }
  // `bytes` lie in memory that `owner` keeps alive and that nobody changes.
  void append_shared(std::shared_ptr<const void> owner, std::span<const std::uint8_t> bytes) {
    if (bytes.empty()) return;
    pieces_.push_back({std::move(owner), bytes});
    size_ += bytes.size();
  }

  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }
  std::vector<boost::asio::const_buffer> buffers() const {
    std::vector<boost::asio::const_buffer> out;
    out.reserve(pieces_.size());
    for (const auto& p : pieces_) out.emplace_back(p.bytes.data(), p.bytes.size());
    return out;
  }
  // All pieces in one vector (a copy).
  std::vector<std::uint8_t> flatten() const {
    std::vector<std::uint8_t> out;
    out.reserve(size_);
    for (const auto& p : pieces_) out.insert(out.end(), p.bytes.begin(), p.bytes.end());
    return out;
  }

 private:
  struct Piece {
    std::shared_ptr<const void> owner;
    std::span<const std::uint8_t> bytes;
  };
  std::vector<Piece> pieces_;
  std::size_t size_ = 0;
};

}  // namespace vncgate::io
