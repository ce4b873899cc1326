// SPDX-License-Identifier: Apache-2.0
#include "service/systemd_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "util/log.hpp"

namespace vncgate::service {

bool systemd_notify(std::string_view state) {
  const char* name = std::getenv("NOTIFY_SOCKET");
  if (name == nullptr || *name == '\0') return false;
  const std::string path = name;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  // Only filesystem and abstract sockets: systemd 252 also knows vsock: addresses, for VMs, not used here.
  if ((path[0] != '/' && path[0] != '@') || path.size() >= sizeof(address.sun_path)) {
    spdlog::debug("systemd: unsupported NOTIFY_SOCKET '{}'", path);
    return false;
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  if (path[0] == '@') address.sun_path[0] = '\0';  // abstract: no terminating NUL, the length says where it ends
  const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());

  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    spdlog::debug("systemd: socket: {}", std::strerror(errno));
    return false;
  }
  ssize_t sent;
  do {
    sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&address), length);
  } while (sent < 0 && errno == EINTR);
  const int error = errno;
  ::close(fd);
  if (sent != static_cast<ssize_t>(state.size())) {
    spdlog::debug("systemd: notify {}: {}", path, sent < 0 ? std::strerror(error) : "short write");
    return false;
  }
  return true;
}

}  // namespace vncgate::service
