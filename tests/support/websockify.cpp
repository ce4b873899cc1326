// SPDX-License-Identifier: Apache-2.0
#include "support/websockify.hpp"

#include <filesystem>
#include <stdexcept>
#include <vector>

namespace vncgate::test {

using namespace std::chrono_literals;

Websockify::Websockify(const Tokens& tokens, const std::string& web_root) {
  const std::string token_dir = dir_.file("tokens");
  std::filesystem::create_directory(token_dir);
  std::string lines;
  for (const auto& [token, target] : tokens) lines += token + ": " + target + "\n";
  write_file(token_dir + "/tokens", lines);

  std::string failures;
  for (int attempt = 0; attempt < 5 && port_ == 0; ++attempt) {
    const int port = free_port();
    std::vector<std::string> argv{"websockify", "--token-plugin", "TokenFile", "--token-source", token_dir};
    if (!web_root.empty()) argv.insert(argv.end(), {"--web", web_root});
    argv.push_back("127.0.0.1:" + std::to_string(port));
    Process p(argv, dir_.file("websockify-" + std::to_string(attempt) + ".log"));
    bool up = false;
    for (int i = 0; i < 200 && p.running(); ++i) {
      if (wait_for_port(port, 50ms)) {
        up = true;
        break;
      }
    }
    if (!up) {
      failures += "attempt " + std::to_string(attempt) + ": " + p.log_tail(600) + "\n";
      p.stop(500ms);
      continue;
    }
    process_ = std::move(p);
    port_ = port;
  }
  if (port_ == 0) throw std::runtime_error("websockify did not start:\n" + failures);
}

Websockify::~Websockify() { process_.stop(2000ms); }

}  // namespace vncgate::test
