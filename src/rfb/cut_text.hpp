// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "rfb/in_buffer.hpp"
#include "util/error.hpp"

namespace vncgate::rfb {

// The body of ServerCutText / ClientCutText after the type byte (RFC 6143 §7.6.4, §7.5.6): 3 padding bytes,
// u32 length, Latin-1 text. A negative length is the Extended Clipboard format, which neither side of ours
// negotiates: its bytes are skipped and `text` stays empty. Returns false when more bytes are needed; throws
// ProtocolError (naming `who`) above `max_length`.
inline bool read_cut_text_body(InBuffer& in, std::size_t max_length, const char* who, std::optional<std::string>& text) {
  if (!in.has(7)) return false;
  in.skip(3);
  const std::uint32_t raw_length = in.u32();
  const bool extended = raw_length & 0x80000000u;
  const std::size_t length = extended ? (~raw_length + 1) : raw_length;
  if (length > max_length)
    throw ProtocolError(std::string(who) + " cut text of " + std::to_string(length) + " bytes too long");
  if (!in.has(length)) return false;
  const auto* p = in.take(length);
  text.reset();
  if (!extended) text.emplace(reinterpret_cast<const char*>(p), length);
  return true;
}

}  // namespace vncgate::rfb
