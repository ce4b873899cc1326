// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "rfb/decoders/decoder.hpp"

namespace vncgate::rfb::test {

// Builds wire bytes (big endian, as RFB sends them).
struct Wire {
  std::vector<std::uint8_t> bytes;
  Wire& u8(unsigned v) {
    bytes.push_back(static_cast<std::uint8_t>(v));
    return *this;
  }
  Wire& u16(unsigned v) { return u8(v >> 8).u8(v); }
  Wire& u32(std::uint32_t v) { return u16(v >> 16).u16(v & 0xffff); }
  // A canonical-format pixel (32 bpp little endian 0x00RRGGBB).
  Wire& px(std::uint32_t rgb) { return u8(rgb).u8(rgb >> 8).u8(rgb >> 16).u8(0); }
  Wire& raw(const std::vector<std::uint8_t>& b) {
    bytes.insert(bytes.end(), b.begin(), b.end());
    return *this;
  }
};

// Feeds `wire` through gather() then decode(); expects gather to consume all bytes exactly.
inline void run_decoder(Decoder& d, const Rect& r, const PixelConverter& conv, const std::vector<std::uint8_t>& wire,
                        PixelBuffer& fb) {
  InBuffer in;
  in.append(wire);
  std::vector<std::uint8_t> payload;
  ASSERT_TRUE(d.gather(in, r, conv.format(), payload)) << "gather wanted more bytes";
  ASSERT_EQ(in.available(), 0u) << "gather left bytes behind";
  d.decode(payload, r, conv, fb);
}

// Every strict prefix of `wire` must make gather() ask for more (false), never throw or over-read.
inline void expect_gather_needs_all(Decoder& d, const Rect& r, const PixelFormat& pf,
                                    const std::vector<std::uint8_t>& wire) {
  for (std::size_t n = 0; n < wire.size(); ++n) {
    InBuffer in;
    in.append({wire.data(), n});
    std::vector<std::uint8_t> payload;
    EXPECT_FALSE(d.gather(in, r, pf, payload)) << "prefix of " << n << " bytes";
  }
}

}  // namespace vncgate::rfb::test
