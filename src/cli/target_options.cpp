// SPDX-License-Identifier: Apache-2.0
#include "cli/target_options.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "util/error.hpp"

namespace vncgate::cli {

void TargetOptions::add_to(CLI::App& app) {
  app.add_option("target", target, "console: vnc://host:port, vncs://host:port, ws(s)://host:port/path?token=…")
      ->required();
  app.add_option("--password-file", password_file,
                 "file holding the VNC password (else $VNCGATE_VNC_PASSWORD or vnc://:pw@host)");
  app.add_option("--encodings", encodings, "comma-separated encodings to request, e.g. tight,zrle,raw");
  app.add_option("--pixel-format", pixel_format, "format asked of the server: canonical, rgb565, bgr233, native")
      ->check(CLI::IsMember({"canonical", "rgb565", "bgr233", "native"}));
  app.add_option("--timeout", timeout_s, "seconds to wait for connection and frame")->check(CLI::PositiveNumber);
}

io::Endpoint TargetOptions::endpoint() const {
  std::string error;
  if (!io::parse_url(target, &error)) throw UsageError("bad target '" + io::redact_url(target) + "': " + error);
  io::Endpoint ep;
  ep.url = target;
  ep.connect_timeout = std::chrono::milliseconds(static_cast<long long>(timeout_s * 1000));
  return ep;
}

rfb::ClientOptions TargetOptions::client_options() const {
  rfb::ClientOptions options;
  if (!password_file.empty()) {
    std::ifstream in(password_file);
    if (!in) throw UsageError("cannot read password file " + password_file);
    std::getline(in, options.password);
    if (!options.password.empty() && options.password.back() == '\r') options.password.pop_back();
  } else if (const char* env = std::getenv("VNCGATE_VNC_PASSWORD")) {
    options.password = env;
  } else if (auto url = io::parse_url(target)) {
    options.password = url->password;
  }
  if (!encodings.empty()) {
    std::string error;
    auto list = rfb::parse_encoding_list(encodings, &error);
    if (!list) throw UsageError("--encodings: " + error);
    auto pseudo = rfb::pseudo_encodings();
    list->insert(list->end(), pseudo.begin(), pseudo.end());
    options.encodings = *list;
  }
  if (pixel_format == "native") options.pixel_format.reset();
  else if (pixel_format == "rgb565") options.pixel_format = rfb::PixelFormat::rgb565();
  else if (pixel_format == "bgr233") options.pixel_format = rfb::PixelFormat::bgr233();
  return options;
}

}  // namespace vncgate::cli
