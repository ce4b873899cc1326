// SPDX-License-Identifier: Apache-2.0
#include "rfb/security/vnc_auth.hpp"

// The low-level DES API is deprecated in OpenSSL 3 but still in libcrypto without the legacy provider; VNC
// Authentication needs exactly single DES, so it is the right tool here.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/des.h>

#include <cstring>

namespace vncgate::rfb {
namespace {

std::uint8_t reverse_bits(std::uint8_t b) {
  b = static_cast<std::uint8_t>((b & 0xf0) >> 4 | (b & 0x0f) << 4);
  b = static_cast<std::uint8_t>((b & 0xcc) >> 2 | (b & 0x33) << 2);
  return static_cast<std::uint8_t>((b & 0xaa) >> 1 | (b & 0x55) << 1);
}

}  // namespace

std::array<std::uint8_t, 16> vnc_auth_response(std::span<const std::uint8_t, 16> challenge, std::string_view password) {
  DES_cblock key{};
  for (std::size_t i = 0; i < 8 && i < password.size(); ++i) key[i] = reverse_bits(static_cast<std::uint8_t>(password[i]));
  DES_key_schedule schedule;
  DES_set_key_unchecked(&key, &schedule);
  std::array<std::uint8_t, 16> out{};
  for (int block = 0; block < 2; ++block) {
    DES_cblock in, result;
    std::memcpy(in, challenge.data() + block * 8, 8);
    DES_ecb_encrypt(&in, &result, &schedule, DES_ENCRYPT);
    std::memcpy(out.data() + block * 8, result, 8);
  }
  OPENSSL_cleanse(&key, sizeof key);
  OPENSSL_cleanse(&schedule, sizeof schedule);
  return out;
}

}  // namespace vncgate::rfb
