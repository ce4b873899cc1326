// SPDX-License-Identifier: Apache-2.0
#include "rfb_compare.hpp"

#include <cctype>
#include <cstdlib>
#include <filesystem>

namespace vncgate::test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

rfb::ClientOptions client_options(const std::vector<rfb::Encoding>& encodings, std::optional<rfb::PixelFormat> format,
                                  std::string password) {
  rfb::ClientOptions o;
  o.encodings = encodings;
  const auto pseudo = rfb::pseudo_encodings();
  o.encodings.insert(o.encodings.end(), pseudo.begin(), pseudo.end());
  o.pixel_format = format;
  o.password = std::move(password);
  return o;
}

std::string encodings_label(const std::vector<rfb::Encoding>& encodings) {
  std::string label;
  for (auto e : encodings) {
    if (!label.empty()) label += "_";
    std::string name = rfb::encoding_name(static_cast<std::int32_t>(e));
    for (char& c : name)
      if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    label += name;
  }
  return label;
}

std::string converge(rfb::BlockingClient& client, const std::function<PixelBuffer()>& oracle,
                     std::chrono::milliseconds timeout, Pixel mask, const std::string& label) {
  const auto deadline = Clock::now() + timeout;
  PixelBuffer expected;
  std::string diff;
  for (;;) {
    expected = oracle();
    diff = diff_summary(expected, client.framebuffer(), mask);
    if (diff.empty()) return {};
    if (Clock::now() >= deadline) break;
    client.next_update(500ms);
  }
  const char* tmp = std::getenv("TMPDIR");
  const std::string dir = std::string(tmp && *tmp ? tmp : "/tmp") + "/vncgate-failures";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::string base = dir + "/" + label;
  try {
    save_ppm(expected, base + "-expected.ppm");
    save_ppm(client.framebuffer(), base + "-actual.ppm");
    diff += " [saved " + base + "-{expected,actual}.ppm]";
  } catch (const std::exception& e) {
    diff += std::string(" [could not save images: ") + e.what() + "]";
  }
  return diff;
}

bool wait_until_still(rfb::BlockingClient& client, std::chrono::milliseconds quiet, std::chrono::milliseconds timeout,
                      int* updates) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (!client.next_update(quiet)) return true;
    if (updates) ++*updates;
  }
  return false;
}

std::uint64_t rects_of(rfb::BlockingClient& client, rfb::Encoding encoding) {
  const auto& stats = client.connection().stats();
  const auto it = stats.find(static_cast<std::int32_t>(encoding));
  return it == stats.end() ? 0 : it->second.rects;
}

std::string stats_text(rfb::BlockingClient& client) {
  std::string text;
  for (const auto& [encoding, s] : client.connection().stats()) {
    if (!text.empty()) text += " ";
    text += rfb::encoding_name(encoding) + "=" + std::to_string(s.rects) + "r/" + std::to_string(s.bytes) + "B";
  }
  return text.empty() ? "(none)" : text;
}

}  // namespace vncgate::test
