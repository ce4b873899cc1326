// SPDX-License-Identifier: Apache-2.0
#include "providers/provider_set.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <exception>

#include "providers/openstack/nova_provider.hpp"
#include "providers/proxmox/proxmox_provider.hpp"

namespace vncgate::providers {

ProviderSet::ProviderSet(DirectSettings direct, Getenv getenv, std::chrono::milliseconds timeout)
    : getenv_(std::move(getenv)), timeout_(timeout), direct_(std::move(direct)) {}

ProviderSet::~ProviderSet() = default;

Provider& ProviderSet::route(const Target& target) {
  switch (target.kind) {
    case TargetKind::direct: return direct_;
    case TargetKind::openstack:
      if (!openstack_) {
        openstack::NovaSettings settings;
        settings.keystone = openstack::KeystoneSettings::from_env(getenv_);
        openstack::auth_request(settings.keystone);  // fail now, naming the missing variable
        settings.keystone.timeout = timeout_;
        settings.console_tls = settings.keystone.tls;
        settings.connect_timeout = timeout_;
        openstack_ = std::make_unique<openstack::NovaProvider>(std::move(settings));
      }
      return *openstack_;
    case TargetKind::proxmox:
      if (!proxmox_) {
        auto settings = proxmox::ProxmoxSettings::from_env(getenv_);
        settings.timeout = timeout_;
        proxmox_ = std::make_unique<proxmox::ProxmoxProvider>(std::move(settings));
      }
      return *proxmox_;
  }
  throw std::logic_error("unknown target kind");
}

asio::awaitable<ConsoleEndpoint> ProviderSet::acquire(const Target& target) {
  co_return co_await route(target).acquire(target);
}

ConsoleEndpoint acquire_blocking(Provider& provider, const Target& target) {
  asio::io_context ctx;
  std::optional<ConsoleEndpoint> result;
  std::exception_ptr failure;
  asio::co_spawn(ctx, provider.acquire(target), [&](const std::exception_ptr& e, ConsoleEndpoint r) {
    failure = e;
    if (!e) result = std::move(r);
  });
  ctx.run();
  if (failure) std::rethrow_exception(failure);
  return std::move(*result);
}

}  // namespace vncgate::providers
