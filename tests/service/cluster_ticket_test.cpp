// SPDX-License-Identifier: Apache-2.0
#include "service/cluster_ticket.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "util/error.hpp"

namespace vncgate::service {
namespace {

using namespace std::chrono_literals;

const std::string kSecret = "0123456789abcdef0123456789abcdef";

TEST(ClusterTicket, AcceptsItsOwnTicketOnceForThatSessionOnly) {
  ClusterTicket tickets(kSecret);
  const auto ticket = tickets.issue("session-a", true);
  EXPECT_EQ(ticket.find(kSecret), std::string::npos);
  std::string why;
  EXPECT_FALSE(tickets.accept(ticket, "session-b", &why));
  EXPECT_EQ(why, "bad signature");
  EXPECT_EQ(tickets.accept(ticket, "session-a"), std::optional<bool>(true));
  EXPECT_FALSE(tickets.accept(ticket, "session-a", &why)) << "replayed";
  EXPECT_EQ(why, "ticket used already");
  EXPECT_EQ(tickets.accept(tickets.issue("session-a", false), "session-a"), std::optional<bool>(false));
}

TEST(ClusterTicket, RefusesForgedTamperedExpiredAndMalformedTickets) {
  ClusterTicket tickets(kSecret);
  std::string why;
  const auto forged = ClusterTicket("another-secret-0123456789abcdef0123").issue("s", false);
  EXPECT_FALSE(tickets.accept(forged, "s", &why));
  EXPECT_EQ(why, "bad signature");
  auto tampered = tickets.issue("s", true);
  tampered[tampered.size() - 66] = '0';  // the view-only flag
  EXPECT_FALSE(tickets.accept(tampered, "s", &why));
  EXPECT_EQ(why, "bad signature");
  EXPECT_FALSE(tickets.accept(ClusterTicket(kSecret, -1s).issue("s", false), "s", &why));
  EXPECT_EQ(why, "expired ticket");
  EXPECT_FALSE(tickets.accept(ClusterTicket(kSecret, 1h).issue("s", false), "s", &why));
  EXPECT_EQ(why, "ticket expires too late");
  for (const std::string& bad :
       std::vector<std::string>{"", "v1", "v1....", "v2.1.aaaaaaaaaaaaaaaa.0." + std::string(64, 'a'),
                                "v1.x.aaaaaaaaaaaaaaaa.0." + std::string(64, 'a'), std::string(1000, '.')}) {
    EXPECT_FALSE(tickets.accept(bad, "s", &why)) << bad;
    EXPECT_EQ(why, "malformed ticket") << bad;
  }
}

TEST(ClusterTicket, ShortSecretsAreAConfigError) { EXPECT_THROW(ClusterTicket("short"), ConfigError); }

}  // namespace
}  // namespace vncgate::service
