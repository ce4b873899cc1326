// SPDX-License-Identifier: Apache-2.0
#include "io/endpoint.hpp"

#include <gtest/gtest.h>

namespace vncgate::io {
namespace {

struct Good {
  const char* url;
  const char* scheme;
  const char* host;
  const char* port;
  const char* target;
  const char* password;
};

void PrintTo(const Good& g, std::ostream* os) { *os << g.url; }

class ParseUrl_Valid : public testing::TestWithParam<Good> {};

TEST_P(ParseUrl_Valid, YieldsParts) {
  const Good& g = GetParam();
  std::string error;
  const auto parsed = parse_url(g.url, &error);
  ASSERT_TRUE(parsed) << g.url << ": " << error;
  EXPECT_EQ(parsed->scheme, g.scheme);
  EXPECT_EQ(parsed->host, g.host);
  EXPECT_EQ(parsed->port, g.port);
  EXPECT_EQ(parsed->target, g.target);
  EXPECT_EQ(parsed->password, g.password);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseUrl_Valid,
    testing::Values(
        Good{"vnc://127.0.0.1:5901", "vnc", "127.0.0.1", "5901", "/", ""},
        Good{"vnc://vm1.example", "vnc", "vm1.example", "5900", "/", ""},
        Good{"VNC://vm1.example:5900/", "vnc", "vm1.example", "5900", "/", ""},
        Good{"vncs://console.example", "vncs", "console.example", "5900", "/", ""},
        Good{"vncs://console.example:5999", "vncs", "console.example", "5999", "/", ""},
        Good{"vnc://:secret12@10.0.0.1:5902", "vnc", "10.0.0.1", "5902", "/", "secret12"},
        Good{"vnc://:s%40cret%3a1%25@h", "vnc", "h", "5900", "/", "s@cret:1%"},
        Good{"vnc://:p@ss@h", "vnc", "h", "5900", "/", "p@ss"},  // unescaped '@': the last one ends userinfo
        Good{"vnc://:@h", "vnc", "h", "5900", "/", ""}, Good{"vnc://[::1]:5901", "vnc", "::1", "5901", "/", ""},
        Good{"vncs://:pw@[2001:db8::7]", "vncs", "2001:db8::7", "5900", "/", "pw"},
        Good{"ws://127.0.0.1:6080/?token=tok1", "ws", "127.0.0.1", "6080", "/?token=tok1", ""},
        Good{"ws://h", "ws", "h", "80", "/", ""}, Good{"ws://h?token=x", "ws", "h", "80", "/?token=x", ""},
        Good{"ws://h:6080/websockify", "ws", "h", "6080", "/websockify", ""},
        Good{"wss://nova.example", "wss", "nova.example", "443", "/", ""},
        // Query kept verbatim (not decoded): the server expects exactly what the provider returned.
        Good{"wss://pve.example:8006/api2/json/nodes/pve1/qemu/100/vncwebsocket?port=5900&vncticket=PVEVNC%3Aab", "wss",
             "pve.example", "8006", "/api2/json/nodes/pve1/qemu/100/vncwebsocket?port=5900&vncticket=PVEVNC%3Aab", ""},
        Good{"wss://nova.example/?path=%3Ftoken%3Dabc", "wss", "nova.example", "443", "/?path=%3Ftoken%3Dabc", ""},
        Good{"wss://[2001:db8::1]:6080/websockify", "wss", "2001:db8::1", "6080", "/websockify", ""},
        Good{"ws://h:065535/", "ws", "h", "65535", "/", ""}));

struct Bad {
  const char* url;
  const char* reason_contains;
};

void PrintTo(const Bad& b, std::ostream* os) { *os << b.url; }

class ParseUrl_Invalid : public testing::TestWithParam<Bad> {};

TEST_P(ParseUrl_Invalid, ReturnsNulloptWithReason) {
  const Bad& b = GetParam();
  std::string error;
  EXPECT_FALSE(parse_url(b.url, &error)) << b.url;
  EXPECT_NE(error.find(b.reason_contains), std::string::npos) << b.url << " -> " << error;
  EXPECT_FALSE(parse_url(b.url));  // no error pointer: still safe
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseUrl_Invalid,
    testing::Values(Bad{"", "missing scheme"}, Bad{"127.0.0.1:5900", "missing scheme"}, Bad{"://h", "missing scheme"},
                    Bad{"http://h", "unknown scheme 'http'"}, Bad{"rdp://h", "unknown scheme"},
                    Bad{"vnc://", "empty host"}, Bad{"vnc://:5900", "empty host"}, Bad{"ws:///path", "empty host"},
                    Bad{"vnc://:pw@", "empty host"}, Bad{"vnc://[]:1", "IPv6"}, Bad{"vnc://h:0", "bad port '0'"},
                    Bad{"vnc://h:65536", "bad port"}, Bad{"vnc://h:99999999999", "bad port"},
                    Bad{"vnc://h:abc", "bad port"}, Bad{"vnc://h:+1", "bad port"}, Bad{"vnc://h:-1", "bad port"},
                    Bad{"vnc://h:59 00", "bad port"}, Bad{"vnc://h:", "empty port"}, Bad{"vnc://[::1]:", "empty port"},
                    Bad{"vnc://user:pw@h", "no user names"}, Bad{"vnc://pw@h", "no user names"},
                    Bad{"ws://:pw@h", "not supported"}, Bad{"wss://u:p@h/", "not supported"},
                    Bad{"vnc://h/display", "no path"}, Bad{"vnc://h?x=1", "no path or query"},
                    Bad{"ws://h/#frag", "fragment"}, Bad{"vnc://[::1", "unterminated"},
                    Bad{"vnc://[::1]x", "after ']'"}, Bad{"vnc://[host.example]", "IPv6"},
                    Bad{"vnc://::1", "IPv6 addresses go in brackets"}, Bad{"vnc://h h", "invalid character"},
                    Bad{"vnc://:%zz@h", "percent"}, Bad{"vnc://:%4@h", "percent"}));

TEST(ParseUrl_Error, NeverContainsThePassword) {
  std::string error;
  EXPECT_FALSE(parse_url("vnc://:hunter2@h:notaport", &error));
  EXPECT_EQ(error.find("hunter2"), std::string::npos) << error;
}

struct Redaction {
  const char* url;
  const char* redacted;
};

void PrintTo(const Redaction& r, std::ostream* os) { *os << r.url; }

class RedactUrl_Table : public testing::TestWithParam<Redaction> {};

TEST_P(RedactUrl_Table, HidesQueryAndUserinfo) { EXPECT_EQ(redact_url(GetParam().url), GetParam().redacted); }

INSTANTIATE_TEST_SUITE_P(
    Table, RedactUrl_Table,
    testing::Values(Redaction{"ws://127.0.0.1:6080/?token=abc", "ws://127.0.0.1:6080/?\u2026"},
                    Redaction{"wss://pve:8006/api2/json/nodes/n/qemu/1/vncwebsocket?port=5900&vncticket=T",
                              "wss://pve:8006/api2/json/nodes/n/qemu/1/vncwebsocket?\u2026"},
                    Redaction{"ws://h?token=abc", "ws://h?\u2026"},
                    Redaction{"vnc://:secret@h:5900", "vnc://\u2026@h:5900"},
                    Redaction{"vnc://:p@ss@h", "vnc://\u2026@h"}, Redaction{"vnc://h:5900", "vnc://h:5900"},
                    Redaction{"ws://h/path", "ws://h/path"}, Redaction{"ws://h/#password=x", "ws://h/#\u2026"},
                    Redaction{"ws://h/?a=b#c", "ws://h/?\u2026#\u2026"}, Redaction{"ws://h/p?", "ws://h/p?\u2026"},
                    Redaction{"not a url?token=abc", "not a url?\u2026"}, Redaction{"secret@host/x", "\u2026@host/x"},
                    Redaction{"", ""}));

TEST(RedactUrl_Secrets, NeverSurvive) {
  for (const char* url : {"wss://h/?token=tok1secret", "vnc://:tok1secret@h", "ws://h/x?a=1&b=tok1secret#f",
                          "weird://:tok1secret@h?tok1secret"}) {
    EXPECT_EQ(redact_url(url).find("tok1secret"), std::string::npos) << url;
  }
}

}  // namespace
}  // namespace vncgate::io
