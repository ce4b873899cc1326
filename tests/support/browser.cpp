// SPDX-License-Identifier: Apache-2.0
#include "support/browser.hpp"

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace vncgate::test {

std::string web_tests_dir() {
  if (const char* dir = std::getenv("VNCGATE_WEB_TESTS_DIR"); dir != nullptr && *dir != '\0') return dir;
  return VNCGATE_WEB_TESTS_DIR;
}

BrowserResult run_browser_check(const std::string& script, const std::vector<std::string>& args,
                                const std::string& work_dir, std::chrono::milliseconds timeout) {
  const std::string dir = web_tests_dir();
  if (!std::filesystem::exists(dir + "/node_modules/playwright-core/package.json")) {
    throw std::runtime_error("playwright-core is missing in " + dir + ": run scripts/install-deps.sh");
  }
  // Several checks may share one work directory: number their files.
  static std::atomic<int> runs{0};
  const std::string stem =
      work_dir + "/" + std::filesystem::path(script).stem().string() + "-" + std::to_string(runs.fetch_add(1));
  std::vector<std::string> argv{"node", dir + "/" + script};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--report", stem + ".json"});
  BrowserResult result;
  result.exit_code = run_command(argv, stem + ".log", timeout);
  result.report = read_file(stem + ".json");
  result.log = read_file(stem + ".log");
  return result;
}

}  // namespace vncgate::test
