// SPDX-License-Identifier: Apache-2.0
#include "cli/target_options.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "providers/provider_set.hpp"
#include "util/error.hpp"

namespace vncgate::cli {

void TargetOptions::add_to(CLI::App& app) {
  app.add_option("target", target,
                 "console: vnc://host:port, vncs://host:port, ws(s)://host:port/path?token=…, openstack:SERVER_ID, "
                 "proxmox:NODE/qemu/VMID, proxmox:NODE/lxc/VMID, proxmox:NODE/node (see docs/providers.md)")
      ->required();
  app.add_option("--password-file", password_file,
                 "file holding the VNC password for direct targets (else $VNCGATE_VNC_PASSWORD or vnc://:pw@host)");
  app.add_option("--allow", allow,
                 "host name, address or CIDR direct targets may reach, besides loopback (repeatable; also "
                 "$VNCGATE_ALLOW, comma-separated)");
  app.add_option("--encodings", encodings, "comma-separated encodings to request, e.g. tight,zrle,raw");
  app.add_option("--pixel-format", pixel_format, "format asked of the server: canonical, rgb565, bgr233, native")
      ->check(CLI::IsMember({"canonical", "rgb565", "bgr233", "native"}));
  app.add_option("--timeout", timeout_s, "seconds to wait for each provider API call, the connection and the frame")
      ->check(CLI::PositiveNumber);
}

providers::ConsoleEndpoint TargetOptions::acquire() const {
  std::string error;
  auto parsed = providers::parse_target(target, &error);
  if (!parsed) throw UsageError("bad target '" + io::redact_url(target) + "': " + error);

  providers::DirectSettings direct;
  for (const auto& entry : allow) direct.allow.add(entry);
  if (const char* env = std::getenv("VNCGATE_ALLOW")) {
    std::stringstream list(env);
    for (std::string entry; std::getline(list, entry, ',');)
      if (!entry.empty()) direct.allow.add(entry);
  }
  if (!password_file.empty()) {
    std::ifstream in(password_file);
    if (!in) throw UsageError("cannot read password file " + password_file);
    std::getline(in, direct.password);
    if (!direct.password.empty() && direct.password.back() == '\r') direct.password.pop_back();
  } else if (const char* env = std::getenv("VNCGATE_VNC_PASSWORD")) {
    direct.password = env;
  }
  const auto timeout = std::chrono::milliseconds(static_cast<long long>(timeout_s * 1000));
  direct.connect_timeout = timeout;
  // Kept across calls: a recorder reconnecting reuses the cached Keystone token / Proxmox ticket.
  if (!providers_) providers_ = std::make_shared<providers::ProviderSet>(std::move(direct), providers::system_getenv(), timeout);
  auto console = providers::acquire_blocking(*providers_, *parsed);
  console.endpoint.connect_timeout = timeout;
  return console;
}

rfb::ClientOptions TargetOptions::client_options(const std::string& password) const {
  rfb::ClientOptions options;
  options.password = password;
  if (!encodings.empty()) {
    std::string error;
    auto list = rfb::parse_encoding_list(encodings, &error);
    if (!list) throw UsageError("--encodings: " + error);
    auto pseudo = rfb::pseudo_encodings();
    list->insert(list->end(), pseudo.begin(), pseudo.end());
    options.encodings = *list;
  }
  if (pixel_format == "native")
    options.pixel_format.reset();
  else if (pixel_format == "rgb565")
    options.pixel_format = rfb::PixelFormat::rgb565();
  else if (pixel_format == "bgr233")
    options.pixel_format = rfb::PixelFormat::bgr233();
  return options;
}

}  // namespace vncgate::cli
