// SPDX-License-Identifier: Apache-2.0
// vncgate_libvncclient_snapshot HOST:PORT OUT.ppm [SECONDS [ENCODINGS [lossless]]]: an independent viewer for
// integration tests. ENCODINGS is libvncclient's space-separated preference list ("hextile raw"; default: its
// own, Tight first, with JPEG quality 5); "lossless" turns JPEG off.
// Connects with libvncclient (libvncserver-dev), asks for 32 bpp 0x00RRGGBB, handles server messages until
// every pixel was painted at least once and no update came for 300 ms (or SECONDS passed), then writes the
// framebuffer as binary PPM. Exit 0 on success, 1 when it could not connect or got no complete picture.
#include <rfb/rfbclient.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

std::vector<unsigned char> g_painted;

void on_update(rfbClient* client, int x, int y, int w, int h) {
  g_painted.resize(static_cast<std::size_t>(client->width) * client->height, 0);
  for (int row = y; row < y + h && row < client->height; ++row)
    for (int col = x; col < x + w && col < client->width; ++col)
      g_painted[static_cast<std::size_t>(row) * client->width + col] = 1;
}

rfbBool on_resize(rfbClient* client) {
  g_painted.assign(static_cast<std::size_t>(client->width) * client->height, 0);
  client->frameBuffer = static_cast<uint8_t*>(
      std::realloc(client->frameBuffer, static_cast<std::size_t>(client->width) * client->height * 4));
  SendFramebufferUpdateRequest(client, 0, 0, client->width, client->height, FALSE);
  return client->frameBuffer != nullptr;
}

bool complete() {
  if (g_painted.empty()) return false;
  for (auto p : g_painted)
    if (!p) return false;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s HOST:PORT OUT.ppm [SECONDS [ENCODINGS]]\n", argv[0]);
    return 2;
  }
  const std::string target = argv[1];
  const double seconds = argc > 3 ? std::atof(argv[3]) : 10;
  rfbClient* client = rfbGetClient(8, 3, 4);
  client->format.redShift = 16;
  client->format.greenShift = 8;
  client->format.blueShift = 0;
  client->serverHost = strdup(target.substr(0, target.rfind(':')).c_str());
  client->serverPort = std::atoi(target.substr(target.rfind(':') + 1).c_str());
  if (argc > 4) client->appData.encodingsString = argv[4];
  if (argc > 5 && std::strcmp(argv[5], "lossless") == 0) client->appData.enableJPEG = FALSE;
  client->canHandleNewFBSize = TRUE;
  client->MallocFrameBuffer = on_resize;
  client->GotFrameBufferUpdate = on_update;
  if (!rfbInitClient(client, nullptr, nullptr)) return 1;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  auto last_update = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() < deadline) {
    const int ready = WaitForMessage(client, 100000);
    if (ready < 0) break;
    if (ready > 0) {
      if (!HandleRFBServerMessage(client)) break;
      last_update = std::chrono::steady_clock::now();
      SendFramebufferUpdateRequest(client, 0, 0, client->width, client->height, TRUE);
    } else if (complete() && std::chrono::steady_clock::now() - last_update > std::chrono::milliseconds(300)) {
      break;
    }
  }
  if (!complete()) {
    std::fprintf(stderr, "libvncclient_snapshot: no complete picture\n");
    rfbClientCleanup(client);
    return 1;
  }
  std::FILE* out = std::fopen(argv[2], "wb");
  if (!out) return 1;
  std::fprintf(out, "P6\n%d %d\n255\n", client->width, client->height);
  for (int i = 0; i < client->width * client->height; ++i) {
    const unsigned char* p = client->frameBuffer + 4 * i;  // little endian 0x00RRGGBB: B, G, R, X
    const unsigned char rgb[3] = {p[2], p[1], p[0]};
    std::fwrite(rgb, 1, 3, out);
  }
  std::fclose(out);
  rfbClientCleanup(client);
  return 0;
}
