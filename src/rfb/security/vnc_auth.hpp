// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace vncgate::rfb {

// VNC Authentication (RFC 6143 §7.2.2): DES-ECB of the 16-byte challenge with the password (first 8 bytes,
// zero padded) as key, each key byte bit-reversed as all VNC implementations do.
std::array<std::uint8_t, 16> vnc_auth_response(std::span<const std::uint8_t, 16> challenge, std::string_view password);

}  // namespace vncgate::rfb
