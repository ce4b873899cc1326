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
  int exit_code = -1;  // as above; -1 when node itself timed out
  std::string report;  // the script's JSON report ("" when it wrote none)
  std::string log;     // node's stdout and stderr, for failure messages
};

// tests/web (the Playwright scripts and their node_modules): $VNCGATE_WEB_TESTS_DIR, else the compile-time path.
std::string web_tests_dir();

// Runs `node tests/web/<script> args... --report FILE` with Debian's chromium; files go to `work_dir`. Throws
// std::runtime_error when playwright-core is not installed (scripts/install-deps.sh runs npm ci there).
BrowserResult run_browser_check(const std::string& script, const std::vector<std::string>& args,
                                const std::string& work_dir,
                                std::chrono::milliseconds timeout = std::chrono::milliseconds(60000));

}  // namespace vncgate::test
