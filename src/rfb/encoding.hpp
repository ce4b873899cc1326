// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vncgate::rfb {

// Encoding numbers from RFC 6143 §7.7 and the community rfbproto registry.
enum class Encoding : std::int32_t {
  raw = 0,
  copy_rect = 1,
  rre = 2,
  hextile = 5,
  zlib = 6,
  tight = 7,
  zrle = 16,
  // pseudo-encodings
  jpeg_quality_level_0 = -32,  // -32..-23: quality 0..9
  desktop_size = -223,
  last_rect = -224,
  pointer_pos = -232,
  cursor = -239,
  x_cursor = -240,
  compress_level_0 = -256,  // -256..-247: level 0..9
  qemu_pointer_motion_change = -257,
  qemu_extended_key_event = -258,
  qemu_audio = -259,
  qemu_led_state = -261,
  desktop_name = -307,
  extended_desktop_size = -308,
  xvp = -309,
  fence = -312,
  continuous_updates = -313,
  wmvi = 0x574d5669,
  vmware_led_state = 0x574d5668,
};

constexpr Encoding quality_level(int level) { return static_cast<Encoding>(-32 + level); }
constexpr Encoding compress_level(int level) { return static_cast<Encoding>(-256 + level); }

// Name of a (pseudo-)encoding for logs and statistics ("tight", "cursor", "unknown(-999)").
std::string encoding_name(std::int32_t encoding);

// Parses "tight,zrle,raw" (names as printed by encoding_name, case-insensitive) into encodings; nullopt and
// a message in `error` on an unknown name.
std::optional<std::vector<Encoding>> parse_encoding_list(std::string_view list, std::string* error);

// The default preference order (DESIGN §2): lossless Tight first, then ZRLE, Hextile, Zlib, CopyRect, RRE,
// Raw, then the pseudo-encodings we understand.
std::vector<Encoding> default_encodings();

// Pseudo-encodings appended to any explicit list (so `--encodings raw` still gets cursor and resizes).
std::vector<Encoding> pseudo_encodings();

}  // namespace vncgate::rfb
