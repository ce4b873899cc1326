// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace vncgate::test {

// Exit codes of the browser checks in tests/web (lib.mjs).
constexpr int kBrowserOk = 0;
constexpr int kBrowserError = 1;
constexpr int kBrowserTimeout = 2;
constexpr int kBrowserRefused = 3;
constexpr int kBrowserCheckFailed = 4;

struct BrowserResult {
  int exit_code = -1;  // as above; -1 when node did not finish in time
  std::string report;  // the script's JSON report ("" when it wrote none)
  std::string log;     // node's stdout and stderr, for failure messages
};

// tests/web (the Playwright scripts and their node_modules): $VNCGATE_WEB_TESTS_DIR, else the compile-time path.
std::string web_tests_dir();

// `node tests/web/<script> args... --report FILE --ready-file FILE` running in the background, with Debian's
// chromium; its files go to `work_dir`. For a viewer that stays open while the test acts (console_check.mjs
// with --expect-disconnect-ms). Throws std::runtime_error when playwright-core is not installed
// (scripts/install-deps.sh runs npm ci there). Start it from the main thread (see Process).
class BrowserRun {
 public:
  BrowserRun(const std::string& script, const std::vector<std::string>& args, const std::string& work_dir);

  // True once the script wrote its ready file; false when it exited first or `timeout` passed.
  bool wait_ready(std::chrono::milliseconds timeout);
  // Waits for the script to exit (stopping it after `timeout`) and collects its result.
  BrowserResult finish(std::chrono::milliseconds timeout);

 private:
  std::string stem_;
  Process process_;
};

// Runs a check to completion: BrowserRun + finish.
BrowserResult run_browser_check(const std::string& script, const std::vector<std::string>& args,
                                const std::string& work_dir,
                                std::chrono::milliseconds timeout = std::chrono::milliseconds(60000));

}  // namespace vncgate::test
