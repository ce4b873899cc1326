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

void XvncServer::hide_pointer() {
  const std::string blank = dir_.file("blank.xbm");
  write_file(blank,
             "#define blank_width 8\n#define blank_height 8\n#define blank_x_hot 0\n#define blank_y_hot 0\n"
             "static char blank_bits[] = {\n0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};\n");
  const std::string log = dir_.file("pointer.log");
  if (run_command({"xsetroot", "-cursor", blank, blank}, log, 10s, x_env()) != 0)
    throw std::runtime_error("xsetroot -cursor failed: " + read_file(log));
  // XWarpPointer through ctypes: no xdotool in Debian's base set.
  const std::string warp =
      "import ctypes\n"
      "x = ctypes.cdll.LoadLibrary('libX11.so.6')\n"
      "x.XOpenDisplay.restype = ctypes.c_void_p\n"
      "x.XOpenDisplay.argtypes = [ctypes.c_char_p]\n"
      "x.XDefaultRootWindow.restype = ctypes.c_ulong\n"
      "x.XDefaultRootWindow.argtypes = [ctypes.c_void_p]\n"
      "x.XWarpPointer.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong] + [ctypes.c_int] * 2 + "
      "[ctypes.c_uint] * 2 + [ctypes.c_int] * 2\n"
      "x.XCloseDisplay.argtypes = [ctypes.c_void_p]\n"
      "d = x.XOpenDisplay(None)\n"
      "assert d, 'cannot open the display'\n"
      "x.XWarpPointer(d, 0, x.XDefaultRootWindow(d), 0, 0, 0, 0, " +
      std::to_string(options_.width - 1) + ", " + std::to_string(options_.height - 1) +
      ")\n"
      "x.XCloseDisplay(d)\n";
  if (run_command({"python3", "-c", warp}, log, 10s, x_env()) != 0)
    throw std::runtime_error("warping the X pointer failed: " + read_file(log));
}

int XvncServer::xrandr(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"xrandr", "-display", display_name()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, dir_.file("xrandr.log"), 20s);
}

Process start_colour_xterm(XvncServer& x) {
  x.hide_pointer();
  Process xterm = x.run_client({"xterm", "-fa", "Monospace", "-fs", "10", "-geometry", "100x40+0+0", "-e", "sh", "-c",
                                "sh '" VNCGATE_COLOUR_SCREEN_SCRIPT "'; exec sleep 100000"},
                               "colour-xterm.log");
  // Painted when two dumps half a second apart agree and the script's last line is there (some pixels of the
  // bold magenta/cyan/yellow/green bar at the bottom of the pattern: not a colour xterm itself uses).
  PixelBuffer previous;
  const auto deadline = Clock::now() + 20s;
  while (Clock::now() < deadline && xterm.running()) {
    std::this_thread::sleep_for(500ms);
    PixelBuffer now = x.xwd_root();
    int magenta = 0;
    for (const Pixel p : now.pixels())
      magenta += framebuffer::red(p) > 200 && framebuffer::green(p) < 120 && framebuffer::blue(p) > 200;
    if (magenta > 20 && previous.width() == now.width() && diff_summary(previous, now).empty()) return xterm;
    previous = std::move(now);
  }
  throw std::runtime_error("the colour xterm did not settle: " + xterm.log_tail());
}

}  // namespace vncgate::test
