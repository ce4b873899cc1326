// SPDX-License-Identifier: Apache-2.0
#pragma once

// VGCAP1: one recorded RFB session, server-to-client direction only.
//
//   "VGCAP1\n"
//   "<encodings> <pixel-format>\n"   encodings as comma-separated decimal ints, in the order requested
//                                    (SetEncodings); pixel format by name (formats() below, or "native")
//   raw server bytes                 from the server's ProtocolVersion on, handshake included (security
//                                    None only), exactly as a ClientConnection with those options needs them
//
// Written by vncgate_capture, replayed by vncgate_decoder_bench and usable (minus the two header lines) as a
// seed for the fuzz_server_messages fuzz target. Header-only.

#include <cstdint>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "fuzz/fuzz_input.hpp"
#include "rfb/client_connection.hpp"

namespace vncgate::bench {

inline constexpr std::string_view kCaptureMagic = "VGCAP1\n";

struct CaptureHeader {
  std::vector<rfb::Encoding> encodings;
  std::string pixel_format = "canonical";  // a fuzz::formats() name or "native"
};

// The ClientOptions a pixel-format name stands for; nullopt when the name is unknown.
inline std::optional<rfb::ClientOptions> client_options(const CaptureHeader& h) {
  rfb::ClientOptions o;
  o.encodings = h.encodings;
  if (h.pixel_format == "native") {
    o.pixel_format.reset();
    return o;
  }
  const auto selector = fuzz::format_selector(h.pixel_format);
  if (!selector) return std::nullopt;
  o.pixel_format = fuzz::formats()[*selector].format;
  return o;
}

inline std::string header_text(const CaptureHeader& h) {
  std::string s(kCaptureMagic);
  for (std::size_t i = 0; i < h.encodings.size(); ++i)
    s += (i ? "," : "") + std::to_string(static_cast<std::int32_t>(h.encodings[i]));
  return s + " " + h.pixel_format + "\n";
}

struct Capture {
  CaptureHeader header;
  std::vector<std::uint8_t> stream;
};

// Reads a whole capture file; throws std::runtime_error naming the file on any format problem.
inline Capture read_capture(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open capture " + path);
  std::string magic, line;
  if (!std::getline(in, magic) || magic + "\n" != kCaptureMagic || !std::getline(in, line))
    throw std::runtime_error(path + ": not a VGCAP1 capture");
  Capture c;
  std::istringstream fields(line);
  std::string list;
  if (!(fields >> list >> c.header.pixel_format)) throw std::runtime_error(path + ": bad header line");
  std::istringstream items(list);
  for (std::string item; std::getline(items, item, ',');) {
    try {
      c.header.encodings.push_back(static_cast<rfb::Encoding>(std::stoi(item)));
    } catch (const std::exception&) {
      throw std::runtime_error(path + ": bad encoding '" + item + "' in header");
    }
  }
  if (!client_options(c.header)) throw std::runtime_error(path + ": unknown pixel format " + c.header.pixel_format);
  c.stream.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return c;
}

}  // namespace vncgate::bench
