// SPDX-License-Identifier: Apache-2.0
#include "support/browser.hpp"

#include <sys/wait.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <thread>

namespace vncgate::test {

namespace {

using namespace std::chrono_literals;

std::vector<std::string> node_argv(const std::string& script, const std::vector<std::string>& args,
                                   const std::string& stem) {
  const std::string dir = web_tests_dir();
  if (!std::filesystem::exists(dir + "/node_modules/playwright-core/package.json")) {
    throw std::runtime_error("playwright-core is missing in " + dir + ": run scripts/install-deps.sh");
  }
  std::vector<std::string> argv{"node", dir + "/" + script};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--report", stem + ".json"});
  return argv;
}

// Several checks may share one work directory: number their files.
std::string next_stem(const std::string& work_dir, const std::string& script) {
  static std::atomic<int> runs{0};
  return work_dir + "/" + std::filesystem::path(script).stem().string() + "-" + std::to_string(runs.fetch_add(1));
}

}  // namespace

std::string web_tests_dir() {
  if (const char* dir = std::getenv("VNCGATE_WEB_TESTS_DIR"); dir != nullptr && *dir != '\0') return dir;
  return VNCGATE_WEB_TESTS_DIR;
}

BrowserRun::BrowserRun(const std::string& script, const std::vector<std::string>& args, const std::string& work_dir)
    : stem_(next_stem(work_dir, script)) {
  std::vector<std::string> argv = node_argv(script, args, stem_);
  argv.insert(argv.end(), {"--ready-file", stem_ + ".ready"});
  process_ = Process(argv, stem_ + ".log");
}

bool BrowserRun::wait_ready(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (std::filesystem::exists(stem_ + ".ready")) return true;
    if (!process_.running()) return false;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

BrowserResult BrowserRun::finish(std::chrono::milliseconds timeout) {
  BrowserResult result;
  const int status = process_.wait(timeout);
  if (status == -1) {
    process_.stop(500ms);
  } else {
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  result.report = read_file(stem_ + ".json");
  result.log = read_file(stem_ + ".log");
  return result;
}

BrowserResult run_browser_check(const std::string& script, const std::vector<std::string>& args,
                                const std::string& work_dir, std::chrono::milliseconds timeout) {
  BrowserRun run(script, args, work_dir);
  return run.finish(timeout);
}

}  // namespace vncgate::test
