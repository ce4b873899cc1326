// SPDX-License-Identifier: Apache-2.0
#include "util/escape.hpp"

namespace vncgate {

void escape_control(std::string_view text, std::string& out) {
  static const char* hex = "0123456789abcdef";
  out.reserve(out.size() + text.size());
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 15];
    } else {
      out += c;
    }
  }
}

}  // namespace vncgate
