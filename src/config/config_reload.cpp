// SPDX-License-Identifier: Apache-2.0
#include "config/config_reload.hpp"

#include <exception>
#include <utility>

#include "util/log.hpp"

namespace vncgate::config {

ConfigReloader::ConfigReloader(Sources sources, ServiceConfig running)
    : sources_(std::move(sources)), running_(std::move(running)) {}

ConfigReloader::Outcome ConfigReloader::reload() {
  Outcome out;
  ServiceConfig fresh;
  try {
    fresh = load(sources_);
  } catch (const std::exception& e) {
    out.error = e.what();
    spdlog::error("serve: reload refused, the running configuration stays: {}", out.error);
    return out;
  }
  out.loaded = true;
  auto check = [&](const char* name, bool same) {
    if (!same) out.needs_restart.emplace_back(name);
  };
  check("[server]", fresh.server == running_.server);
  check("[jobs]", fresh.jobs == running_.jobs);
  check("[storage]", fresh.storage == running_.storage);
  check("[recording]", fresh.recording == running_.recording);
  check("[providers]", fresh.providers == running_.providers);
  check("[gateway]", fresh.gateway == running_.gateway);
  check("[targets]", fresh.targets == running_.targets);
  out.log_level_changed = fresh.log_level != running_.log_level;

  // Said at the more verbose of the two levels, so that neither hides it.
  const auto apply_level = [&] {
    log::set_level(fresh.log_level);
    running_.log_level = fresh.log_level;
  };
  const std::string was = running_.log_level;
  const bool louder = out.log_level_changed && spdlog::level::from_str(fresh.log_level) < spdlog::get_level();
  if (louder) apply_level();
  spdlog::info("serve: configuration reloaded, log.level = {}{}", fresh.log_level,
               out.log_level_changed ? " (was " + was + ")" : "");
  if (!out.needs_restart.empty()) {
    std::string names;
    for (const auto& n : out.needs_restart) names += (names.empty() ? "" : ", ") + n;
    spdlog::warn("serve: {} changed; these take effect at the next restart", names);
  }
  if (out.log_level_changed && !louder) apply_level();
  return out;
}

}  // namespace vncgate::config
