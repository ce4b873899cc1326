// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>

#include "rfb/decoders/decoder_test_util.hpp"
#include "rfb/pixel_format.hpp"

// A scripted RFB server's handshake bytes (the client connection tests feed them).
namespace vncgate::rfb::test {

inline Wire& text(Wire& w, const std::string& s) {
  for (char c : s) w.u8(static_cast<unsigned char>(c));
  return w;
}

inline Wire server_init(int width, int height, const std::string& name = "test") {
  Wire w;
  w.u16(width).u16(height);
  const auto pf = PixelFormat::canonical().serialize();
  w.raw({pf.begin(), pf.end()});
  w.u32(static_cast<std::uint32_t>(name.size()));
  return text(w, name);
}

inline Wire greeting_38_none() {
  Wire w;
  text(w, "RFB 003.008\n").u8(1).u8(1).u32(0);
  return w;
}

}  // namespace vncgate::rfb::test
