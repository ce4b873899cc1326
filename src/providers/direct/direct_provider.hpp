// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <vector>

#include "providers/provider.hpp"

namespace vncgate::providers {

// Which hosts direct targets (vnc://, vncs://, ws(s)://) may reach, so a gateway cannot be turned into a
// scanner of arbitrary networks. Entries are CIDRs ("10.0.0.0/8", "fd00::/8"), single addresses, or host names
// (matched exactly, case-insensitively). The default allows loopback only.
class AllowList {
 public:
  // With `loopback`: 127.0.0.0/8, ::1/128, localhost (the CLI's default; `vncgate serve` opts in with
  // providers.allow_loopback, as the gateway host's own ports are not for its API clients).
  AllowList() : AllowList(true) {}  // not explicit: settings structs default-initialise it as `{}`
  explicit AllowList(bool loopback);
  // Throws ConfigError naming the entry when it is neither a CIDR, an address nor a host name.
  void add(const std::string& entry);
  // A host name is allowed when listed by name, or when every address it resolves to is inside a listed
  // network. An address literal must be inside a listed network.
  bool allows_name(const std::string& host) const;
  bool allows_address(const std::string& address) const;
  // Blocking (it may resolve a name): for callers on a blocking pool that answer before connecting.
  bool allows_host(const std::string& host) const;

 private:
  struct Network {
    std::vector<unsigned char> bytes;  // 4 or 16
    unsigned prefix = 0;
  };
  std::vector<Network> networks_;
  std::vector<std::string> names_;
};

struct DirectSettings {
  AllowList allow;
  std::string password;  // from --password-file / env; wins over a vnc://:pw@ in the URL
  io::TlsOptions tls;    // for vncs:// and wss://
  std::chrono::milliseconds connect_timeout{10000};
};

// Direct URLs: checks the allow-list (resolving names) and passes the URL through.
class DirectProvider final : public Provider {
 public:
  explicit DirectProvider(DirectSettings settings) : settings_(std::move(settings)) {}
  asio::awaitable<ConsoleEndpoint> acquire(const Target& target) override;

 private:
  DirectSettings settings_;
};

}  // namespace vncgate::providers
