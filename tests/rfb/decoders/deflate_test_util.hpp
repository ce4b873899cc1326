// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <vector>

namespace vncgate::rfb::test {

// One persistent deflate stream that ends every chunk with a sync flush, as Zlib, Tight and ZRLE servers
// send: later chunks depend on the dictionary of earlier ones.
class Deflater {
 public:
  explicit Deflater(int level = 6) { EXPECT_EQ(deflateInit(&z_, level), Z_OK); }
  ~Deflater() { deflateEnd(&z_); }
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  std::vector<std::uint8_t> operator()(const std::vector<std::uint8_t>& in) {
    std::vector<std::uint8_t> out(in.size() * 2 + 256);
    z_.next_in = const_cast<Bytef*>(in.data());
    z_.avail_in = static_cast<uInt>(in.size());
    z_.next_out = out.data();
    z_.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(deflate(&z_, Z_SYNC_FLUSH), Z_OK);
    EXPECT_EQ(z_.avail_in, 0u);
    out.erase(out.end() - static_cast<std::ptrdiff_t>(z_.avail_out), out.end());  // (resize trips GCC 12 -Wstringop)
    return out;
  }

 private:
  z_stream z_{};
};

}  // namespace vncgate::rfb::test
