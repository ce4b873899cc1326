// SPDX-License-Identifier: Apache-2.0
// vncgate_viewer_load: many VNC viewers in one thread, or the round-trip latency of one (bench/gateway.sh).
//
//   vncgate_viewer_load [--viewers N] [--seconds T] [--warmup W] [--origin O] [--encodings novnc|LIST
//                       [--quality Q] [--compress C]] URL...
//   vncgate_viewer_load --urls-file FILE ...          one URL per line (each opened once)
//   vncgate_viewer_load --rects FILE ...              also each rectangle the first viewer got, one a line
//   vncgate_viewer_load --latency K [--region S] URL
//
// Load mode: N connections (to the one URL, or one per line of FILE), all on one io_context. Each asks for
// incremental updates continuously, as a real viewer does (a new request as soon as an update completes),
// and decodes them. Counts the updates and payload bytes received between W and W+T seconds and prints one
// key=value line: connected, failed, updates (total, min, avg, max per viewer), bytes, and per encoding the
// rectangles, bytes and pixels of the whole run.
// Latency mode: one viewer on an idle screen sends K non-incremental requests for an SxS region, one at a
// time, and prints p50/p99/max of the time until each update has arrived, in microseconds.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "io/byte_stream.hpp"
#include "rfb/async_client.hpp"
#include "rfb/client_connection.hpp"
#include "rfb/encoding.hpp"

namespace {

using namespace vncgate;
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

io::Endpoint endpoint_for(const std::string& url, const std::string& origin) {
  io::Endpoint endpoint;
  endpoint.url = url;
  if (!origin.empty()) endpoint.headers.emplace_back("Origin", origin);
  endpoint.connect_timeout = std::chrono::seconds(30);  // websockify forks per connection: slow under a burst
  return endpoint;
}

std::uint64_t payload_bytes(const rfb::ClientConnection& conn) {
  std::uint64_t sum = 0;
  for (const auto& [encoding, stats] : conn.stats()) sum += stats.bytes;
  return sum;
}

// One viewer: asks again as soon as an update completes (the connection itself keeps asking until the
// first frame is complete, so only then is it our turn).
struct Viewer : rfb::ClientListener {
  std::shared_ptr<rfb::AsyncClient> client;
  bool connected = false;
  bool failed = false;
  std::uint64_t updates0 = 0, bytes0 = 0;

  void on_connected(const rfb::ServerInit&) override { connected = true; }
  void on_update(const rfb::Rect&) override {
    auto& conn = client->connection();
    if (!conn.update_pending()) conn.request_update(true);
  }
};

// noVNC 1.3's SetEncodings (core/rfb.js _sendEncodings): CopyRect, Tight, Hextile, RRE, Raw, JPEG quality 6
// and compression level 2 (its defaults), then pseudo-encodings.
std::vector<rfb::Encoding> novnc_encodings() {
  using E = rfb::Encoding;
  std::vector<E> list{E::copy_rect,          E::tight, E::hextile, E::rre, E::raw, rfb::quality_level(6),
                      rfb::compress_level(2)};
  const auto pseudo = rfb::pseudo_encodings();
  list.insert(list.end(), pseudo.begin(), pseudo.end());
  return list;
}

// "" the client's default list, "novnc" noVNC's, else "tight,zrle,raw" plus quality/compression pseudo-encodings
// ("tight,quality6,compress2" is not a name: levels go as --encodings tight --quality 6 --compress 2).
rfb::ClientOptions client_options(const std::string& encodings, int quality, int compress) {
  rfb::ClientOptions options;
  if (encodings == "novnc") {
    options.encodings = novnc_encodings();
  } else if (!encodings.empty()) {
    std::string error;
    auto list = rfb::parse_encoding_list(encodings, &error);
    if (!list) throw std::invalid_argument(error);
    if (quality >= 0) list->push_back(rfb::quality_level(quality));
    if (compress >= 0) list->push_back(rfb::compress_level(compress));
    const auto pseudo = rfb::pseudo_encodings();
    list->insert(list->end(), pseudo.begin(), pseudo.end());
    options.encodings = std::move(*list);
  }
  return options;
}

// Tight's kind of rectangle from its control byte: fill, jpeg, full colour, or palette with its colour count
// (how two encoders' choices differ, rectangle by rectangle).
std::string tight_kind(std::span<const std::uint8_t> payload) {
  if (payload.empty()) return "-";
  const unsigned type = payload[0] >> 4;
  if (type == 0x8) return "fill";
  if (type == 0x9) return "jpeg";
  if ((type & 0x4) && payload.size() > 2 && payload[1] == 1) return "palette" + std::to_string(payload[2] + 1);
  if ((type & 0x4) && payload.size() > 1) return "filter" + std::to_string(payload[1]);
  return "full";
}

int run_load(const std::vector<std::string>& urls, int viewers, const std::string& origin, int warmup_s, int seconds,
             const rfb::ClientOptions& options, const std::string& rects_file) {
  std::ofstream rects_out;
  if (!rects_file.empty()) rects_out.open(rects_file);
  asio::io_context io;
  std::vector<std::unique_ptr<Viewer>> all;
  std::string first_error;
  const int n = urls.size() == 1 ? viewers : static_cast<int>(urls.size());
  for (int i = 0; i < n; ++i) {
    auto v = std::make_unique<Viewer>();
    v->client = std::make_shared<rfb::AsyncClient>(io.get_executor(), options, v.get());
    if (i == 0 && rects_out.is_open()) {
      auto& conn = v->client->connection();
      conn.set_rect_observer(
          [&rects_out, &conn](rfb::Encoding encoding, const rfb::Rect& r, std::span<const std::uint8_t> payload) {
            rects_out << conn.updates_completed() << ' ' << rfb::encoding_name(static_cast<std::int32_t>(encoding))
                      << ' ' << r.x << ' ' << r.y << ' ' << r.w << ' ' << r.h << ' ' << payload.size() << ' '
                      << (encoding == rfb::Encoding::tight ? tight_kind(payload) : "-") << '\n';
          });
    }
    all.push_back(std::move(v));
  }
  // Connections are opened 2 ms apart: a burst of hundreds would overflow the listeners' accept backlogs.
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        asio::steady_timer pause(io);
        for (int i = 0; i < n; ++i) {
          asio::co_spawn(
              io,
              [&, i]() -> asio::awaitable<void> {
                Viewer& v = *all[i];
                try {
                  const auto endpoint = endpoint_for(urls[urls.size() == 1 ? 0 : i], origin);
                  co_await v.client->run(endpoint);
                } catch (const std::exception& e) {
                  if (!v.client->closed() || !v.connected) {
                    v.failed = true;
                    if (first_error.empty()) first_error = e.what();
                  }
                }
              },
              asio::detached);
          pause.expires_after(std::chrono::milliseconds(2));
          co_await pause.async_wait(asio::use_awaitable);
        }
      },
      asio::detached);

  asio::steady_timer warm(io, std::chrono::seconds(warmup_s));
  warm.async_wait([&](auto) {
    for (auto& v : all) {
      v->updates0 = v->client->connection().updates_completed();
      v->bytes0 = payload_bytes(v->client->connection());
    }
  });
  asio::steady_timer stop(io, std::chrono::seconds(warmup_s + seconds));
  stop.async_wait([&](auto) {
    for (auto& v : all) v->client->close();
  });
  io.run();

  int connected = 0, failed = 0;
  std::uint64_t total = 0, bytes = 0, lo = UINT64_MAX, hi = 0;
  for (auto& v : all) {
    connected += v->connected && !v->failed;
    failed += v->failed;
    const auto u = v->client->connection().updates_completed() - v->updates0;
    total += u;
    lo = std::min(lo, u);
    hi = std::max(hi, u);
    bytes += payload_bytes(v->client->connection()) - v->bytes0;
  }
  std::cout << "viewers=" << n << " connected=" << connected << " failed=" << failed << " seconds=" << seconds
            << " updates=" << total << " updates_min=" << lo << " updates_avg=" << (n ? total / n : 0)
            << " updates_max=" << hi << " bytes=" << bytes << " bytes_per_viewer=" << (n ? bytes / n : 0);
  // Rectangles per encoding over the whole run (e.g. how much of a scroll came as CopyRect).
  std::map<std::int32_t, rfb::EncodingStats> per_encoding;
  for (auto& v : all)
    for (const auto& [encoding, stats] : v->client->connection().stats()) {
      auto& sum = per_encoding[encoding];
      sum.rects += stats.rects, sum.bytes += stats.bytes, sum.pixels += stats.pixels;
    }
  for (const auto& [encoding, sum] : per_encoding) {
    const auto name = rfb::encoding_name(encoding);
    std::cout << " rects_" << name << "=" << sum.rects;
    if (encoding >= 0) std::cout << " bytes_" << name << "=" << sum.bytes << " pixels_" << name << "=" << sum.pixels;
  }
  std::cout << "\n";
  if (!first_error.empty()) std::cerr << "viewer_load: first failure: " << first_error << "\n";
  return failed == 0 ? 0 : 1;
}

std::uint64_t percentile(std::vector<std::uint64_t> sorted, double p) {
  const auto i = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

asio::awaitable<void> latency(const std::string& url, const std::string& origin, int count, int region,
                              std::vector<std::uint64_t>& out) {
  auto executor = co_await asio::this_coro::executor;
  auto stream = co_await io::connect(executor, endpoint_for(url, origin));
  rfb::ClientConnection conn(rfb::ClientOptions{});
  std::vector<std::uint8_t> buffer(64 * 1024);
  auto pump = [&]() -> asio::awaitable<void> {  // one read, then whatever the connection wants to send
    const auto n = co_await stream->read_some(asio::buffer(buffer));
    conn.feed({buffer.data(), n});
    if (conn.has_output()) {
      auto bytes = conn.take_output();
      co_await stream->write(asio::buffer(bytes));
    }
  };
  while (!conn.ready() || !conn.frame_complete() || conn.update_pending()) co_await pump();
  const auto w = static_cast<std::uint16_t>(std::min(region, conn.server_init().width));
  const auto h = static_cast<std::uint16_t>(std::min(region, conn.server_init().height));
  // FramebufferUpdateRequest, non-incremental, (0,0) w x h (RFC 6143 §7.5.3).
  const std::uint8_t request[10] = {3,
                                    0,
                                    0,
                                    0,
                                    0,
                                    0,
                                    static_cast<std::uint8_t>(w >> 8),
                                    static_cast<std::uint8_t>(w),
                                    static_cast<std::uint8_t>(h >> 8),
                                    static_cast<std::uint8_t>(h)};
  for (int i = 0; i < count; ++i) {
    const auto done = conn.updates_completed();
    const auto t0 = Clock::now();
    co_await stream->write(asio::buffer(request));
    while (conn.updates_completed() == done) co_await pump();
    out.push_back(std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count());
  }
  stream->close();
}

int run_latency(const std::string& url, const std::string& origin, int count, int region) {
  asio::io_context io;
  std::vector<std::uint64_t> samples;
  std::exception_ptr error;
  asio::co_spawn(io, latency(url, origin, count, region, samples), [&](std::exception_ptr e) { error = e; });
  io.run();
  if (error) {
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      std::cerr << "viewer_load: " << e.what() << "\n";
      return 1;
    }
  }
  std::sort(samples.begin(), samples.end());
  std::cout << "samples=" << samples.size() << " p50_us=" << percentile(samples, 0.5)
            << " p99_us=" << percentile(samples, 0.99) << " max_us=" << samples.back() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"many VNC viewers in one thread, or one viewer's request latency (bench/gateway.sh)"};
  std::vector<std::string> urls;
  std::string urls_file, origin, rects_file;
  std::string encodings;
  int viewers = 1, seconds = 10, warmup = 2, latency_count = 0, region = 64, quality = -1, compress = -1;
  app.add_option("url", urls, "vnc://HOST:PORT or ws://HOST:PORT/PATH");
  app.add_option("--urls-file", urls_file, "one URL per line, each opened once")->check(CLI::ExistingFile);
  app.add_option("--viewers", viewers, "connections to the one URL")->check(CLI::Range(1, 100000));
  app.add_option("--seconds", seconds, "measured time")->check(CLI::Range(1, 86400));
  app.add_option("--warmup", warmup, "seconds before counting starts")->check(CLI::Range(0, 3600));
  app.add_option("--origin", origin, "Origin header for ws:// URLs");
  app.add_option("--latency", latency_count, "latency mode: this many requests")->check(CLI::Range(1, 10000000));
  app.add_option("--region", region, "latency mode: side of the requested square")->check(CLI::Range(1, 4096));
  app.add_option("--encodings", encodings, "load mode: 'novnc' (noVNC 1.3's list) or e.g. tight,zrle,raw");
  app.add_option("--quality", quality, "with an --encodings list: JPEG quality level")->check(CLI::Range(0, 9));
  app.add_option("--compress", compress, "with an --encodings list: compression level")->check(CLI::Range(0, 9));
  app.add_option("--rects", rects_file,
                 "load mode: write the first viewer's rectangles to this file, one a line: update encoding x y w h "
                 "payload-bytes tight-kind");
  CLI11_PARSE(app, argc, argv);
  if (!urls_file.empty()) {
    std::ifstream in(urls_file);
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) urls.push_back(line);
  }
  if (urls.empty()) {
    std::cerr << "viewer_load: no URL given\n";
    return 2;
  }
  try {
    if (latency_count > 0) return run_latency(urls.front(), origin, latency_count, region);
    return run_load(urls, viewers, origin, warmup, seconds, client_options(encodings, quality, compress), rects_file);
  } catch (const std::exception& e) {
    std::cerr << "viewer_load: " << e.what() << "\n";
    return 1;
  }
}
