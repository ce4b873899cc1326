// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "framebuffer/pixel_buffer.hpp"
#include "support/process.hpp"

namespace vncgate::test {

// Directory holding vmlinuz and initrd.gz from scripts/make-guest.sh: $VNCGATE_GUEST_DIR, else the
// VNCGATE_GUEST_DIR compile definition set by CMake (the build tree's guest/ folder).
std::string guest_dir();

// QEMU Machine Protocol over a unix socket: greeting, qmp_capabilities, then one command at a time.
// Asynchronous {"event":...} lines are skipped. Blocking; not thread-safe.
class QmpClient {
 public:
  QmpClient() = default;
  // Connects (retrying until `timeout`: the socket appears a moment after QEMU starts; gives up early once
  // `alive` returns false) and negotiates capabilities.
  void connect(const std::string& socket_path, std::chrono::milliseconds timeout,
               const std::function<bool()>& alive = {});
  void close();
  ~QmpClient();
  QmpClient(const QmpClient&) = delete;
  QmpClient& operator=(const QmpClient&) = delete;

  // Sends one command (a JSON object text) and returns the {"return":...} line verbatim; throws
  // std::runtime_error with QEMU's text on {"error":...} or after `timeout`.
  std::string execute(const std::string& command_json,
                      std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));

 private:
  std::string read_line(std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  std::string buffered_;
};

struct QemuOptions {
  std::string mode = "static";  // the guest's MODE= (static | text | tick)
  std::string extra_append;     // more kernel parameters, e.g. "vga=0x317"
  bool password = false;        // -vnc ...,password=on (every login fails until change_vnc_password)
  // Appended to QEMU's command line, e.g. a second -qmp socket for an emulator.
  std::vector<std::string> extra_args;
  std::chrono::milliseconds boot_timeout{60000};
  int port = 0;  // VNC port (>= 5900); 0 = a free one
};

// A QEMU VM (TCG, 256 MB, no NIC) running the test guest, with its VNC server on 127.0.0.1:port() and QMP
// on a unix socket. The constructor returns once the guest printed "ready" on its serial port; throws
// std::runtime_error (with QEMU's log) when it does not boot. The destructor stops QEMU.
class QemuGuest {
 public:
  explicit QemuGuest(QemuOptions options = {});
  ~QemuGuest();

  int port() const { return port_; }
  std::string vnc_url() const { return "vnc://127.0.0.1:" + std::to_string(port_); }
  const std::string& serial_path() const { return serial_; }
  QmpClient& qmp() { return qmp_; }
  const std::string& work_dir() const { return dir_.path(); }

  // The exact current framebuffer (QMP screendump, PPM).
  framebuffer::PixelBuffer screendump();
  void change_vnc_password(const std::string& password);
  // The raw `query-vnc` return line (auth, clients).
  std::string query_vnc();
  // Types `keys` on the guest's keyboard (QMP send-key): lower-case letters, digits, space, '\n', '-', '.'.
  void type(const std::string& keys);

 private:
  TempDir dir_{"vncgate-qemu"};
  QemuOptions options_;
  Process process_;
  QmpClient qmp_;
  std::string serial_;
  int port_ = 0;
  int dumps_ = 0;
};

}  // namespace vncgate::test
