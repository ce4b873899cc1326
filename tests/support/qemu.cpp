// SPDX-License-Identifier: Apache-2.0
#include "support/qemu.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <thread>

#include "support/image.hpp"

#ifndef VNCGATE_GUEST_DIR
#define VNCGATE_GUEST_DIR ""
#endif

namespace vncgate::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// QEMU names VNC ports by display number (port 5900 + N); pick one whose port is free now, starting at a
// random offset so parallel test processes rarely collide (a collision is retried by the caller).
int pick_vnc_display() {
  static std::mt19937 rng{std::random_device{}()};
  std::uniform_int_distribution<int> dist(100, 3000);
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int display = dist(rng);
    if (port_is_free(5900 + display)) return display;
  }
  throw std::runtime_error("no free VNC port in 6000..8900");
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

}  // namespace

std::string guest_dir() {
  const char* env = std::getenv("VNCGATE_GUEST_DIR");
  return env && *env ? std::string(env) : std::string(VNCGATE_GUEST_DIR);
}

// --- QMP -------------------------------------------------------------------------------------------------

QmpClient::~QmpClient() { close(); }

void QmpClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buffered_.clear();
}

void QmpClient::connect(const std::string& socket_path, std::chrono::milliseconds timeout,
                        const std::function<bool()>& alive) {
  const auto deadline = Clock::now() + timeout;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof addr.sun_path) throw std::runtime_error("QMP socket path too long");
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  for (;;) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) break;
    ::close(fd_);
    fd_ = -1;
    if (alive && !alive()) throw std::runtime_error("QMP: QEMU exited before serving " + socket_path);
    if (Clock::now() >= deadline) throw std::runtime_error("QMP: cannot connect to " + socket_path);
    std::this_thread::sleep_for(20ms);
  }
  // The greeting comes first, except that an event raised while the monitor was being set up (a VNC client
  // connecting, e.g. our own port probe) can come before it.
  for (;;) {
    const std::string line = read_line(deadline + 5s);
    if (line.find("\"QMP\"") != std::string::npos) break;
    if (line.find("\"event\"") == std::string::npos) throw std::runtime_error("QMP: unexpected greeting " + line);
  }
  execute(R"({"execute":"qmp_capabilities"})");
}

std::string QmpClient::read_line(Clock::time_point deadline) {
  for (;;) {
    const auto nl = buffered_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffered_.substr(0, nl);
      buffered_.erase(0, nl + 1);
      return line;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) throw std::runtime_error("QMP: timed out waiting for a reply");
    pollfd p{fd_, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    char buf[4096];
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n <= 0) throw std::runtime_error("QMP: connection closed");
    buffered_.append(buf, static_cast<std::size_t>(n));
  }
}

std::string QmpClient::execute(const std::string& command_json, std::chrono::milliseconds timeout) {
  if (fd_ < 0) throw std::runtime_error("QMP: not connected");
  const std::string line = command_json + "\n";
  for (std::size_t off = 0; off < line.size();) {
    const ssize_t n = ::send(fd_, line.data() + off, line.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error(std::string("QMP: send: ") + std::strerror(errno));
    off += static_cast<std::size_t>(n);
  }
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    std::string reply = read_line(deadline);
    if (reply.find("\"event\"") != std::string::npos && reply.find("\"return\"") == std::string::npos) continue;
    if (reply.find("\"error\"") != std::string::npos)
      throw std::runtime_error("QMP " + command_json + " failed: " + reply);
    if (reply.find("\"return\"") != std::string::npos) return reply;
  }
}

// --- QemuGuest -------------------------------------------------------------------------------------------

QemuGuest::QemuGuest(QemuOptions options) : options_(std::move(options)) {
  const std::string guest = guest_dir();
  if (guest.empty() || !std::filesystem::exists(guest + "/vmlinuz") || !std::filesystem::exists(guest + "/initrd.gz"))
    throw std::runtime_error("test guest not found in '" + guest +
                             "' (build it with scripts/make-guest.sh DIR and set VNCGATE_GUEST_DIR)");
  const std::string qmp_socket = dir_.file("qmp.sock");
  serial_ = dir_.file("serial.txt");
  std::string append = "console=ttyS0 console=tty0 consoleblank=0 loglevel=1 MODE=" + options_.mode;
  if (!options_.extra_append.empty()) append += " " + options_.extra_append;

  // A display number can be taken by a parallel test between our probe and QEMU's bind: retry.
  std::string failures;
  for (int attempt = 0; attempt < 5; ++attempt) {
    // A fixed port (a console coming back where it was) is not retried elsewhere.
    const int display = options_.port ? options_.port - 5900 : pick_vnc_display();
    std::string vnc = "127.0.0.1:" + std::to_string(display);
    if (options_.password) vnc += ",password=on";
    const std::string log = dir_.file("qemu-" + std::to_string(attempt) + ".log");
    std::filesystem::remove(serial_);
    std::filesystem::remove(qmp_socket);
    std::vector<std::string> argv{"qemu-system-x86_64",
                                  "-accel",
                                  "tcg",
                                  "-m",
                                  "256",
                                  "-display",
                                  "none",
                                  "-nic",
                                  "none",
                                  "-vnc",
                                  vnc,
                                  "-qmp",
                                  "unix:" + qmp_socket + ",server,nowait",
                                  "-kernel",
                                  guest + "/vmlinuz",
                                  "-initrd",
                                  guest + "/initrd.gz",
                                  "-append",
                                  append,
                                  "-serial",
                                  "file:" + serial_,
                                  "-no-reboot"};
    argv.insert(argv.end(), options_.extra_args.begin(), options_.extra_args.end());
    Process p(argv, log);
    // QEMU sets up VNC before its main loop starts serving QMP, and exits when it cannot bind: an answer on
    // our own QMP socket means our VNC server is up (query-vnc says where).
    try {
      qmp_.connect(qmp_socket, 10s, [&p] { return p.running(); });
      const std::string vnc_info = query_vnc();
      if (vnc_info.find("\"service\": \"" + std::to_string(5900 + display) + "\"") == std::string::npos)
        throw std::runtime_error("VNC server not on port " + std::to_string(5900 + display) + ": " + vnc_info);
    } catch (const std::exception& e) {
      failures += "attempt " + std::to_string(attempt) + ": " + e.what() + "\n" + p.log_tail(500) + "\n";
      qmp_.close();
      p.stop(500ms);
      continue;
    }
    process_ = std::move(p);
    port_ = 5900 + display;
    break;
  }
  if (port_ == 0) throw std::runtime_error("QEMU did not start its VNC server:\n" + failures);

  const auto deadline = Clock::now() + options_.boot_timeout;
  // "ready" on a line of its own (a kernel message could contain the word).
  const auto ready = [this] {
    std::string text = "\n";
    text += read_file(serial_);
    return text.find("\nready\n") != std::string::npos || text.find("\nready\r") != std::string::npos;
  };
  while (!ready()) {
    std::this_thread::sleep_for(25ms);
    if (!process_.running() || Clock::now() >= deadline)
      throw std::runtime_error("guest did not boot (no \"ready\" on serial); serial tail:\n" +
                               read_file(serial_).substr(0, 3000) + "\nQEMU log:\n" + process_.log_tail());
  }
}

QemuGuest::~QemuGuest() { process_.stop(3000ms); }

framebuffer::PixelBuffer QemuGuest::screendump() {
  const std::string path = dir_.file("screendump-" + std::to_string(dumps_++) + ".ppm");
  qmp_.execute(R"({"execute":"screendump","arguments":{"filename":)" + json_string(path) + "}}");
  PixelBuffer image = load_ppm(path);
  std::filesystem::remove(path);
  return image;
}

void QemuGuest::change_vnc_password(const std::string& password) {
  qmp_.execute(R"({"execute":"change-vnc-password","arguments":{"password":)" + json_string(password) + "}}");
}

std::string QemuGuest::query_vnc() { return qmp_.execute(R"({"execute":"query-vnc"})"); }

void QemuGuest::type(const std::string& keys) {
  for (char c : keys) {
    std::string code = c == ' ' ? "spc" : c == '\n' ? "ret" : c == '-' ? "minus" : c == '.' ? "dot" : std::string(1, c);
    qmp_.execute(R"({"execute":"send-key","arguments":{"keys":[{"type":"qcode","data":")" + code + R"("}]}})");
  }
}

}  // namespace vncgate::test
