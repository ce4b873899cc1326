// SPDX-License-Identifier: Apache-2.0
#include "util/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdlib>

namespace vncgate::log {

namespace {
bool level_from_flags = false;
}

void init(bool verbose, bool quiet) {
  level_from_flags = verbose || quiet;
  auto logger = spdlog::stderr_color_mt("vncgate");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  logger->set_level(quiet     ? spdlog::level::warn
                    : verbose ? (std::getenv("VNCGATE_TRACE") ? spdlog::level::trace : spdlog::level::debug)
                              : spdlog::level::info);
  spdlog::set_default_logger(logger);
}

void set_level(const std::string& level) {
  if (!level_from_flags) spdlog::set_level(spdlog::level::from_str(level));
}

}  // namespace vncgate::log
