// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace vncgate::rfb {

// One zlib deflate stream: each compress() ends with a sync flush, so the viewer can inflate every rectangle as
// soon as it arrives. restart() begins a new stream on the same allocations: encoders restart for every
// update, so an update's bytes do not depend on earlier ones and can be shared between viewers.
class Deflater {
 public:
  explicit Deflater(int level = 1);
  ~Deflater();
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  int level() const { return level_; }
  // Starts a fresh stream at `level`; the viewer must be told to reset its inflater before the next data.
  void reset(int level);
  // Starts a fresh stream at the same level (deflateReset: cheap, keeps the memory).
  void restart();
  // Appends the compressed form of `data` to `out`.
  void compress(std::span<const std::uint8_t> data, std::vector<std::uint8_t>& out);

 private:
  struct Stream;
  std::unique_ptr<Stream> stream_;
  int level_;
};

}  // namespace vncgate::rfb
