// SPDX-License-Identifier: Apache-2.0
#include "util/log.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdlib>

#include "util/escape.hpp"

namespace vncgate::log {

namespace {
bool level_from_flags = false;

// The message with control characters escaped (%*): text from outside (a desktop name, a server's banner, a
// request header) cannot forge or split log lines, whoever logged it.
class EscapedMessage final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    std::string text;
    escape_control(std::string_view(msg.payload.data(), msg.payload.size()), text);
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<EscapedMessage>(); }
};
}  // namespace

void init(bool verbose, bool quiet) {
  level_from_flags = verbose || quiet;
  auto logger = spdlog::stderr_color_mt("vncgate");
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<EscapedMessage>('*').set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %*");
  logger->set_formatter(std::move(formatter));
  logger->set_level(quiet     ? spdlog::level::warn
                    : verbose ? (std::getenv("VNCGATE_TRACE") ? spdlog::level::trace : spdlog::level::debug)
                              : spdlog::level::info);
  spdlog::set_default_logger(logger);
}

void set_level(const std::string& level) {
  if (!level_from_flags) spdlog::set_level(spdlog::level::from_str(level));
}

}  // namespace vncgate::log
