// SPDX-License-Identifier: Apache-2.0
#include "rfb/security/vnc_auth.hpp"

#include <gtest/gtest.h>

namespace vncgate::rfb {
namespace {

// FIPS 81 / classic DES vector: key 0123456789ABCDEF, "Now is t" -> 3FA40E8A984D4815. VNC bit-reverses each
// key byte, so the password is the bit-reversed key.
TEST(VncAuth_Response, MatchesDesVectorWithBitReversedKey) {
  const std::string password = "\x80\xC4\xA2\xE6\x91\xD5\xB3\xF7";
  std::array<std::uint8_t, 16> challenge{'N', 'o', 'w', ' ', 'i', 's', ' ', 't',
                                         'N', 'o', 'w', ' ', 'i', 's', ' ', 't'};
  const auto r = vnc_auth_response(challenge, password);
  const std::array<std::uint8_t, 8> expected{0x3F, 0xA4, 0x0E, 0x8A, 0x98, 0x4D, 0x48, 0x15};
  EXPECT_TRUE(std::equal(expected.begin(), expected.end(), r.begin()));
  EXPECT_TRUE(std::equal(expected.begin(), expected.end(), r.begin() + 8));
}

TEST(VncAuth_Response, PasswordTruncatedToEightBytes) {
  std::array<std::uint8_t, 16> challenge{};
  EXPECT_EQ(vnc_auth_response(challenge, "secret12"), vnc_auth_response(challenge, "secret12andmore"));
  EXPECT_NE(vnc_auth_response(challenge, "secret12"), vnc_auth_response(challenge, "secret13"));
}

}  // namespace
}  // namespace vncgate::rfb
