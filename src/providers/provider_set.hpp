// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>

#include "providers/api_error.hpp"
#include "providers/direct/direct_provider.hpp"
#include "providers/provider.hpp"

namespace vncgate::providers {

// Routes each target to its provider: direct URLs to DirectProvider, openstack: to Nova, proxmox: to Proxmox.
// The cloud providers are built on first use from the environment (OS_*, PROXMOX_*), so a missing setting only
// matters for the kind of target that needs it; they are then kept, caching tokens and tickets.
class ProviderSet final : public Provider {
 public:
  // `timeout` bounds each API call (Keystone, Nova, Proxmox) and the console connection's setup.
  explicit ProviderSet(DirectSettings direct, Getenv getenv = system_getenv(),
                       std::chrono::milliseconds timeout = std::chrono::seconds(30));
  ~ProviderSet() override;
  asio::awaitable<ConsoleEndpoint> acquire(const Target& target) override;

 private:
  // The provider for `target`'s kind, built on first use; ConfigError when its settings are incomplete.
  Provider& route(const Target& target);

  Getenv getenv_;
  std::chrono::milliseconds timeout_;
  DirectProvider direct_;
  std::unique_ptr<Provider> openstack_;
  std::unique_ptr<Provider> proxmox_;
};

// Runs provider.acquire(target) on a private io_context (for one-shot callers: CLI, tests).
ConsoleEndpoint acquire_blocking(Provider& provider, const Target& target);

}  // namespace vncgate::providers
