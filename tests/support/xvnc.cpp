// SPDX-License-Identifier: Apache-2.0
#include "support/xvnc.hpp"

#include <filesystem>
#include <random>
#include <stdexcept>
#include <thread>

#include "support/image.hpp"

namespace vncgate::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// prefix + n, built by appending: `"lit" + std::to_string(n)` trips a GCC 12 -Wrestrict false positive here.
std::string with_number(const char* prefix, int n) {
  std::string s(prefix);
  s += std::to_string(n);
  return s;
}

bool display_is_free(int d) {
  const std::string n = std::to_string(d);
  return !std::filesystem::exists("/tmp/.X11-unix/X" + n) && !std::filesystem::exists("/tmp/.X" + n + "-lock");
}

int pick_display() {
  static std::mt19937 rng{std::random_device{}()};
  std::uniform_int_distribution<int> dist(100, 900);
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int d = dist(rng);
    if (display_is_free(d)) return d;
  }
  throw std::runtime_error("no free X display number in 100..900");
}

}  // namespace

XvncServer::XvncServer(XvncOptions options) : options_(std::move(options)) {
  std::vector<std::string> security{"-SecurityTypes", "None"};
  if (!options_.password.empty()) {
    const std::string passwd = dir_.file("passwd");
    const int rc =
        run_command({"sh", "-c", "printf %s \"$VNCGATE_PW\" | vncpasswd -f > \"$VNCGATE_OUT\""},
                    dir_.file("vncpasswd.log"), 10s, {{"VNCGATE_PW", options_.password}, {"VNCGATE_OUT", passwd}});
    if (rc != 0) throw std::runtime_error("vncpasswd -f failed: " + read_file(dir_.file("vncpasswd.log")));
    security = {"-SecurityTypes", "VncAuth", "-PasswordFile", passwd};
  }

  // The display number or port can be taken between our probe and Xvnc's bind: retry with fresh ones.
  std::string failures;
  for (int attempt = 0; attempt < 5 && port_ == 0; ++attempt) {
    const int display = pick_display();
    const int port = free_port();
    std::vector<std::string> argv{"Xvnc",
                                  with_number(":", display),
                                  "-rfbport",
                                  std::to_string(port),
                                  "-localhost",
                                  "-geometry",
                                  std::to_string(options_.width) + "x" + std::to_string(options_.height),
                                  "-depth",
                                  std::to_string(options_.depth),
                                  "-nolisten",
                                  "tcp",
                                  "-AlwaysShared"};
    argv.insert(argv.end(), security.begin(), security.end());
    argv.insert(argv.end(), options_.extra_args.begin(), options_.extra_args.end());
    Process p(argv, dir_.file(with_number("xvnc-", attempt) + ".log"));
    const auto deadline = Clock::now() + 10s;
    bool up = false;
    while (Clock::now() < deadline && p.running()) {
      // Both the RFB port and the X socket: clients connect to either right after we return.
      if (wait_for_port(port, 50ms) && std::filesystem::exists(with_number("/tmp/.X11-unix/X", display))) {
        up = true;
        break;
      }
    }
    if (!up) {
      failures += with_number("attempt ", attempt) + ": " + p.log_tail(600) + "\n";
      p.stop(500ms);
      continue;
    }
    process_ = std::move(p);
    display_ = display;
    port_ = port;
  }
  if (port_ == 0) throw std::runtime_error("Xvnc did not start:\n" + failures);
}

XvncServer::~XvncServer() { process_.stop(2000ms); }

std::string XvncServer::display_name() const { return with_number(":", display_); }

Process XvncServer::run_client(const std::vector<std::string>& argv, const std::string& log_name) {
  return Process(argv, dir_.file(log_name), x_env());
}

framebuffer::PixelBuffer XvncServer::xwd_root() {
  const std::string n = std::to_string(dumps_++);
  const std::string xwd = dir_.file("root-" + n + ".xwd"), ppm = dir_.file("root-" + n + ".ppm");
  const std::string log = dir_.file("xwd.log");
  if (run_command({"xwd", "-root", "-silent", "-display", display_name(), "-out", xwd}, log, 20s) != 0)
    throw std::runtime_error("xwd failed: " + read_file(log));
  if (run_command({"/usr/bin/convert", "xwd:" + xwd, "ppm:" + ppm}, log, 20s) != 0)
    throw std::runtime_error("convert xwd->ppm failed: " + read_file(log));
  PixelBuffer image = load_ppm(ppm);
  std::filesystem::remove(xwd);
  std::filesystem::remove(ppm);
  return image;
}

int XvncServer::xrandr(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"xrandr", "-display", display_name()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, dir_.file("xrandr.log"), 20s);
}

}  // namespace vncgate::test
