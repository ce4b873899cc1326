// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <vector>

#include "framebuffer/pixel_buffer.hpp"
#include "support/process.hpp"

namespace vncgate::test {

struct XvncOptions {
  int width = 1024;
  int height = 768;
  int depth = 24;        // 16 and 24 work; TigerVNC 1.12's Xvnc refuses 8 ("Couldn't add screen")
  std::string password;  // non-empty: -SecurityTypes VncAuth with a `vncpasswd -f` file
  std::vector<std::string> extra_args;
};

// TigerVNC Xvnc on a free display number, its RFB port on 127.0.0.1 (and ::1, -localhost), X only on the
// unix socket. The constructor returns once the RFB port accepts connections; throws std::runtime_error with
// Xvnc's log otherwise. The destructor stops every client started with run_client, then Xvnc.
class XvncServer {
 public:
  explicit XvncServer(XvncOptions options = {});
  ~XvncServer();

  int display() const { return display_; }
  std::string display_name() const;  // ":D"
  int port() const { return port_; }
  std::string vnc_url() const { return "vnc://127.0.0.1:" + std::to_string(port_); }
  const std::string& work_dir() const { return dir_.path(); }

  // Starts an X client with DISPLAY set; its output goes to a log in work_dir(). The caller owns the process.
  Process run_client(const std::vector<std::string>& argv, const std::string& log_name = "client.log");
  // The root window as the X server sees it: `xwd -root` converted to PPM by ImageMagick.
  framebuffer::PixelBuffer xwd_root();
  // Makes the X pointer invisible in the picture: the root window gets a blank cursor and the pointer is warped
  // to the bottom-right corner (over the root window). TigerVNC draws the pointer into the framebuffer it sends
  // a client that never moved it (a recorder), and xwd never shows it, so pixel checks of such clients need this.
  void hide_pointer();
  // Runs `xrandr ARGS` against this display; its exit code.
  int xrandr(const std::vector<std::string>& args);
  Env x_env() const { return {{"DISPLAY", display_name()}}; }

 private:
  TempDir dir_{"vncgate-xvnc"};
  XvncOptions options_;
  Process process_;
  int display_ = -1;
  int port_ = 0;
  int dumps_ = 0;
};

// Starts an xterm (Monospace 10, 100x40 at the top left) on `x` showing scripts/lib/colour-screen.sh — the
// QEMU guest's MODE=static picture: ANSI colours, bold, coloured backgrounds — with the pointer hidden
// (hide_pointer), and returns once the root window shows it and holds still. Throws std::runtime_error (with
// xterm's log) when it does not appear.
Process start_colour_xterm(XvncServer& x);

}  // namespace vncgate::test
