// SPDX-License-Identifier: Apache-2.0
// ClientConnection's private part, shared by its two source files (client_connection.cpp: the protocol;
// client_checkpoint.cpp: saving and restoring its state).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "framebuffer/copy_batch.hpp"
#include "rfb/client_connection.hpp"
#include "rfb/decoders/decoder.hpp"

namespace vncgate::rfb {

// Decoders are created lazily, one per encoding, and live as long as the connection (zlib streams persist).
struct ClientConnection::Impl {
  std::map<std::int32_t, std::unique_ptr<Decoder>> decoders;
  std::vector<std::uint8_t> payload;
  std::uint8_t challenge[16];
  // CopyRects not applied yet: applied before any other rectangle, at the end of the update and of each feed
  // (outside feed() the picture never waits for them).
  framebuffer::CopyBatch copies;

  Decoder* decoder(std::int32_t encoding) {
    auto& d = decoders[encoding];
    if (!d) d = make_decoder(static_cast<Encoding>(encoding));
    return d.get();
  }
};

}  // namespace vncgate::rfb
