// SPDX-License-Identifier: Apache-2.0
// vncgate_libvncclient_replay: the same VGCAP1 capture through libvncclient (libvncserver-dev), as the peer
// for vncgate_decoder_bench. libvncclient reads from a socket, so a thread serves the capture's server bytes
// on a loopback port (client messages are read and dropped) and the main thread runs libvncclient's
// HandleRFBServerMessage loop until the stream ends. Only the main thread's CPU time is counted, from after
// the handshake, so the numbers compare with the benchmark's CPU-time rates.
//
//   vncgate_libvncclient_replay CAPTURE [REPEATS]   ->   "<name> <Mpx per replay> <best Mpx/s> <best MB/s>"
// Canonical-format captures only (libvncclient is asked for the same 32 bpp 0x00RRGGBB format).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <rfb/rfbclient.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <thread>

#include "capture_file.hpp"

namespace {

std::uint64_t g_pixels = 0;

void quiet(const char*, ...) {}

void count_rect(rfbClient*, int, int, int w, int h) { g_pixels += static_cast<std::uint64_t>(w) * h; }

// Pseudo-encodings vncgate asks for that libvncclient 0.9.14 does not know (it would stop at them): QEMU LED
// state (TigerVNC sends it in the first update), VMware LED state and DesktopName. Read and dropped.
rfbBool skip_pseudo(rfbClient* client, rfbFramebufferUpdateRectHeader* rect) {
  char buf[256];
  switch (static_cast<std::int32_t>(rect->encoding)) {
    case -261: return ReadFromRFBServer(client, buf, 1);
    case 0x574d5668: return ReadFromRFBServer(client, buf, 4);
    case -307: {
      std::uint8_t len[4];
      if (!ReadFromRFBServer(client, reinterpret_cast<char*>(len), 4)) return FALSE;
      for (std::uint32_t n = (len[0] << 24) | (len[1] << 16) | (len[2] << 8) | len[3]; n > 0;) {
        const auto k = std::min<std::uint32_t>(n, sizeof buf);
        if (!ReadFromRFBServer(client, buf, k)) return FALSE;
        n -= k;
      }
      return TRUE;
    }
    default: return FALSE;
  }
}

int g_skipped[] = {-261, 0x574d5668, -307, 0};
rfbClientProtocolExtension g_skip_extension = {g_skipped, skip_pseudo, nullptr, nullptr, nullptr, nullptr};

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Serves `stream` to the first client of a fresh loopback listener; returns the port.
int serve(const std::vector<std::uint8_t>& stream, std::thread& server) {
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (listener < 0 || bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(listener, 1) != 0 || getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::perror("libvncclient_replay: listen");
    std::exit(1);
  }
  server = std::thread([listener, &stream] {
    const int fd = accept(listener, nullptr, nullptr);
    close(listener);
    if (fd < 0) return;
    std::thread drain([fd] {
      char sink[4096];
      while (read(fd, sink, sizeof sink) > 0) {
      }
    });
    for (std::size_t pos = 0; pos < stream.size();) {
      const auto n = write(fd, stream.data() + pos, stream.size() - pos);
      if (n <= 0) break;
      pos += static_cast<std::size_t>(n);
    }
    shutdown(fd, SHUT_WR);
    drain.join();
    close(fd);
  });
  return ntohs(addr.sin_port);
}

// One replay; returns the client's CPU seconds after the handshake (negative on failure).
double replay(const vncgate::bench::Capture& capture) {
  std::thread server;
  const int port = serve(capture.stream, server);
  rfbClient* client = rfbGetClient(8, 3, 4);
  client->format.redShift = 16;  // canonical 0x00RRGGBB little endian, like the capture
  client->format.greenShift = 8;
  client->format.blueShift = 0;
  client->serverHost = strdup("127.0.0.1");
  client->serverPort = port;
  client->canHandleNewFBSize = TRUE;
  client->GotFrameBufferUpdate = count_rect;
  double cpu = -1;
  if (rfbInitClient(client, nullptr, nullptr)) {  // on failure it has cleaned up the client itself
    g_pixels = 0;
    const double start = thread_cpu_seconds();
    while (HandleRFBServerMessage(client)) {
    }
    cpu = thread_cpu_seconds() - start;
    rfbClientCleanup(client);
  }
  server.join();
  return cpu;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CAPTURE [REPEATS]\n", argv[0]);
    return 2;
  }
  rfbClientRegisterExtension(&g_skip_extension);
  if (!std::getenv("VNCGATE_LIBVNC_LOG")) {
    rfbClientLog = quiet;
    rfbClientErr = quiet;
  }
  const int repeats = argc > 2 ? std::max(1, std::atoi(argv[2])) : 5;
  try {
    const auto capture = vncgate::bench::read_capture(argv[1]);
    if (capture.header.pixel_format != "canonical") {
      std::fprintf(stderr, "%s: only canonical-format captures are supported\n", argv[1]);
      return 2;
    }
    double best = 0;
    for (int i = 0; i < repeats; ++i) {
      const double cpu = replay(capture);
      if (cpu <= 0) {
        std::fprintf(stderr, "%s: libvncclient failed the handshake\n", argv[1]);
        return 1;
      }
      if (best == 0 || cpu < best) best = cpu;
    }
    std::printf("%s %.2f %.1f %.1f\n", std::filesystem::path(argv[1]).stem().c_str(), g_pixels / 1e6,
                g_pixels / 1e6 / best, capture.stream.size() / 1e6 / best);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "libvncclient_replay: %s\n", e.what());
    return 1;
  }
  return 0;
}
