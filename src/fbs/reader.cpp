// SPDX-License-Identifier: Apache-2.0
#include "fbs/reader.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "fbs/format.hpp"
#include "util/error.hpp"

namespace vncgate::fbs {
namespace {

// Reads up to `n` bytes; returns how many arrived (fewer at end of file).
std::size_t read_up_to(std::istream& in, std::uint8_t* dst, std::size_t n) {
  in.read(reinterpret_cast<char*>(dst), static_cast<std::streamsize>(n));
  return static_cast<std::size_t>(in.gcount());
}

}  // namespace

Reader Reader::open(const std::string& path) {
  auto in = std::make_unique<std::ifstream>(path, std::ios::binary);
  if (!*in) throw IoError("cannot open " + path + ": " + std::strerror(errno));
  return Reader(std::move(in), path);
}

Reader Reader::from_bytes(std::vector<std::uint8_t> bytes) {
  auto in = std::make_unique<std::istringstream>(std::string(bytes.begin(), bytes.end()), std::ios::binary);
  return Reader(std::move(in), "FBS data");
}

Reader Reader::from_stream(std::unique_ptr<std::istream> in, std::string name) {
  return Reader(std::move(in), std::move(name));
}

Reader::Reader(std::unique_ptr<std::istream> in, std::string name) : in_(std::move(in)), name_(std::move(name)) {
  std::uint8_t magic[kMagicSize];
  const std::size_t got = read_up_to(*in_, magic, kMagicSize);
  const std::string_view text(reinterpret_cast<const char*>(magic), got);
  if (text == kMagic001)
    minor_ = 1;
  else if (text == kMagic000)
    minor_ = 0;
  else if (got == kMagicSize && text.substr(0, 8) == "FBS 001.")
    throw ProtocolError(name_ + ": unsupported FBS version '" + std::string(text.substr(0, 11)) +
                        "' (001.000 and 001.001 are read)");
  else
    throw ProtocolError(name_ + ": not an FBS recording (expected header 'FBS 001.001', got " + std::to_string(got) +
                        " bytes that differ)");
  offset_ = kMagicSize;
  status_.good_bytes = offset_;
}

Reader::Reader(Reader&&) noexcept = default;
Reader& Reader::operator=(Reader&&) noexcept = default;
Reader::~Reader() = default;

void Reader::stop(StopReason reason, std::string message) {
  status_.reason = reason;
  status_.message = name_ + ": " + std::move(message);
}

std::optional<Block> Reader::next() {
  if (status_.reason != StopReason::reading) return std::nullopt;
  const std::uint64_t at = offset_;
  const std::string where = " at offset " + std::to_string(at);
  std::uint8_t head[4];
  const std::size_t got = read_up_to(*in_, head, 4);
  if (got == 0) {
    stop(StopReason::end, "end of recording after " + std::to_string(status_.blocks) + " blocks");
    return std::nullopt;
  }
  if (got < 4) {
    stop(StopReason::truncated, "truncated block length" + where);
    return std::nullopt;
  }
  const std::uint32_t length = get_u32(head);
  if (length > kMaxBlockBytes) {
    stop(StopReason::absurd_length, "block length " + std::to_string(length) + where + " exceeds " +
                                        std::to_string(kMaxBlockBytes) + " bytes (corrupt file)");
    return std::nullopt;
  }
  Block block;
  block.offset = at;
  const std::size_t body = padded4(length) + 4;
  block.data.resize(body);
  const std::size_t have = read_up_to(*in_, block.data.data(), body);
  if (have < body) {
    stop(StopReason::truncated, "truncated block" + where + " (file ends after " + std::to_string(have) + " of " +
                                    std::to_string(body) + " bytes)");
    return std::nullopt;
  }
  block.ms = get_u32(block.data.data() + body - 4);
  block.data.resize(length);
  if (has_last_ && block.ms < status_.last_ms) {
    stop(StopReason::timestamp_backwards, "timestamp goes backwards" + where + " (" + std::to_string(block.ms) +
                                              " ms after " + std::to_string(status_.last_ms) + " ms)");
    return std::nullopt;
  }
  if (block.ms - (has_last_ ? status_.last_ms : 0) > kMaxTimestampJumpMs) {
    stop(StopReason::timestamp_jump, "absurd timestamp " + std::to_string(block.ms) + " ms" + where);
    return std::nullopt;
  }
  if (length == 0) {
    // rfbproxy's "timestamped EOF": the recording lasted until its timestamp.
    stop(StopReason::end_marker, "end marker (empty block)" + where);
    status_.good_bytes = at + 4 + body;
    status_.last_ms = block.ms;
    return std::nullopt;
  }
  offset_ = at + 4 + body;
  status_.good_bytes = offset_;
  status_.last_ms = block.ms;
  has_last_ = true;
  ++status_.blocks;
  return block;
}

void Reader::seek(std::uint64_t offset, std::uint32_t ms) {
  in_->clear();
  in_->seekg(static_cast<std::streamoff>(offset));
  if (!*in_) throw IoError(name_ + ": cannot seek to offset " + std::to_string(offset));
  offset_ = offset;
  status_ = {};
  status_.good_bytes = offset;
  status_.last_ms = ms;
  has_last_ = true;  // ordering checks continue relative to `ms`
}

Summary summarize(Reader reader) {
  Summary summary;
  summary.minor_version = reader.minor_version();
  while (auto block = reader.next()) summary.data_bytes += block->data.size();
  summary.status = reader.status();
  summary.blocks = summary.status.blocks;
  summary.duration_ms = summary.status.last_ms;
  return summary;
}

}  // namespace vncgate::fbs
