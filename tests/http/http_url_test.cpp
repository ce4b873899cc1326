// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include "http/http_client.hpp"

namespace vncgate::http {
namespace {

TEST(HttpUrl, Parse_SplitsHostPortTarget_WithDefaults) {
  auto u = parse_url("https://pve1.example:8006/api2/json?x=1");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "pve1.example");
  EXPECT_EQ(u->port, "8006");
  EXPECT_EQ(u->target, "/api2/json?x=1");
  EXPECT_EQ(u->origin(), "https://pve1.example:8006");
  auto d = parse_url("HTTP://[::1]");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->port, "80");
  EXPECT_EQ(d->target, "/");
  EXPECT_EQ(d->origin(), "http://[::1]");
}

TEST(HttpUrl, Parse_Rejects_OtherSchemesAndCredentials) {
  std::string error;
  EXPECT_FALSE(parse_url("ftp://x/", &error));
  EXPECT_NE(error.find("http"), std::string::npos);
  EXPECT_FALSE(parse_url("https://user:pw@x/", &error));
}

TEST(HttpUrl, PercentEncodeDecode_RoundTrip) {
  const std::string ticket = "PVEVNC:6543ABCD::a+b/c=";
  EXPECT_EQ(percent_encode(ticket), "PVEVNC%3A6543ABCD%3A%3Aa%2Bb%2Fc%3D");
  EXPECT_EQ(percent_decode(percent_encode(ticket)), ticket);
  EXPECT_FALSE(percent_decode("%2"));
  EXPECT_FALSE(percent_decode("%zz"));
  EXPECT_EQ(form_encode({{"websocket", "1"}, {"password", "a b&c"}}), "websocket=1&password=a%20b%26c");
}

TEST(HttpResponse, Header_IsCaseInsensitive) {
  Response r;
  r.headers = {{"X-Subject-Token", "gAAA"}};
  EXPECT_EQ(r.header("x-subject-token"), "gAAA");
  EXPECT_FALSE(r.header("X-Auth-Token"));
}

}  // namespace
}  // namespace vncgate::http
