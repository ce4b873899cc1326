// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the service config loader: the input is a config file, read once as TOML and once
// as YAML. Bad input must end in ConfigError, nothing else. Checked invariant: whatever loads renders
// (unmasked) to TOML that loads back to the same config.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "config/service_config.hpp"
#include "util/error.hpp"

namespace {

using namespace vncgate;

void check(const std::string& text, config::FileFormat format) {
  config::ServiceConfig loaded;
  try {
    loaded = config::load_text(text, format, "fuzz");
  } catch (const ConfigError&) {
    return;
  }
  const auto rendered = config::render(loaded, false);
  try {
    if (config::load_text(rendered, config::FileFormat::toml, "rendered") == loaded) return;
    std::fprintf(stderr, "render round trip changed the config:\n%s\n", rendered.c_str());
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "rendered config does not load: %s\n%s\n", e.what(), rendered.c_str());
  }
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  check(text, config::FileFormat::toml);
  check(text, config::FileFormat::yaml);
  return 0;
}
