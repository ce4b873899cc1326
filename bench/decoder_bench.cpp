// SPDX-License-Identifier: Apache-2.0
// vncgate_decoder_bench: decode throughput on recorded streams (VGCAP1 files from vncgate_capture).
//
//   vncgate_decoder_bench --captures DIR_OR_FILE [--captures ...] [--benchmark_* flags]
//   VNCGATE_CAPTURES=dir1:dir2 vncgate_decoder_bench
//
// Each capture is replayed whole (handshake included) through a fresh rfb::ClientConnection with the options
// recorded in its header, fed in 64 KiB chunks as a socket read loop would. Counters:
//   Mpx/s  decoded rectangle pixels (ClientConnection::stats()) per CPU second — the bar is 200 on one core
//   MB/s   server bytes consumed per CPU second
// plus a label with each encoding's share of the pixels. `memcpy_frame` copies one 1280x800 canonical frame
// per iteration: the floor any decoder is measured against, in the same Mpx/s unit.
// `lone_viewer/NAME` is the gateway's work for one viewer without the sockets: each update decoded, then what
// it changed (copies aside: they go on as CopyRect) encoded for a Tight viewer at compression 6, lossless, whose
// zlib streams keep their history (rfb::ViewerEncoders). Counter: bytes (to that viewer, per replay).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "capture_file.hpp"
#include "framebuffer/damage.hpp"
#include "rfb/encoders/pixel_encoder.hpp"
#include "util/error.hpp"

namespace {

using namespace vncgate;
namespace fs = std::filesystem;

constexpr std::size_t kChunk = 64 * 1024;

struct Replay {
  std::uint64_t pixels = 0;
  std::map<std::int32_t, std::uint64_t> pixels_by_encoding;
};

// The stream in kChunk pieces, as a socket read loop would feed it.
void feed_in_chunks(rfb::ClientConnection& conn, std::span<const std::uint8_t> stream) {
  for (std::size_t pos = 0; pos < stream.size(); pos += kChunk) {
    conn.feed(stream.subspan(pos, std::min(kChunk, stream.size() - pos)));
    (void)conn.take_output();
  }
}

Replay replay_once(const bench::Capture& capture, const rfb::ClientOptions& options) {
  rfb::ClientConnection conn(options);
  feed_in_chunks(conn, capture.stream);
  Replay r;
  for (const auto& [encoding, stats] : conn.stats()) {
    r.pixels += stats.pixels;
    if (stats.pixels) r.pixels_by_encoding[encoding] += stats.pixels;
  }
  return r;
}

void bm_replay(benchmark::State& state, std::shared_ptr<const bench::Capture> capture) {
  const auto options = *bench::client_options(capture->header);
  Replay last;
  std::uint64_t pixels = 0;
  try {
    for (auto _ : state) {
      last = replay_once(*capture, options);
      pixels += last.pixels;
    }
  } catch (const vncgate::Error& e) {
    state.SkipWithError(e.what());
    return;
  }
  const auto bytes = static_cast<double>(capture->stream.size()) * static_cast<double>(state.iterations());
  state.counters["Mpx/s"] = benchmark::Counter(static_cast<double>(pixels) / 1e6, benchmark::Counter::kIsRate);
  state.counters["MB/s"] = benchmark::Counter(bytes / 1e6, benchmark::Counter::kIsRate);
  state.counters["Mpx"] = static_cast<double>(last.pixels) / 1e6;  // per replay
  state.counters["MB"] = static_cast<double>(capture->stream.size()) / 1e6;
  std::string label;
  for (const auto& [encoding, px] : last.pixels_by_encoding) {
    const auto share = last.pixels ? 100.0 * static_cast<double>(px) / static_cast<double>(last.pixels) : 0.0;
    char part[64];
    std::snprintf(part, sizeof part, "%s%s %.0f%%", label.empty() ? "" : " ", rfb::encoding_name(encoding).c_str(),
                  share);
    label += part;
  }
  state.SetLabel(label);
}

// Encodes each update's changed areas for one viewer as the gateway's AsyncServer does for a viewer alone.
class LoneViewer : public rfb::ClientListener {
 public:
  explicit LoneViewer(const rfb::ClientOptions& options) : conn_(options, this) {
    conn_.set_rect_observer([this](rfb::Encoding e, const framebuffer::Rect& r, std::span<const std::uint8_t>) {
      if (static_cast<std::int32_t>(e) >= 0 && e != rfb::Encoding::copy_rect) changed_.add(r);
    });
  }
  rfb::ClientConnection& connection() { return conn_; }
  std::size_t bytes() const { return bytes_; }

  void on_update(const framebuffer::Rect&) override {
    if (changed_.empty() || !conn_.frame_complete()) return;
    bytes_ += encoders_.encode(conn_.framebuffer(), changed_.rects(), params_).bytes.size();
    changed_.clear();
  }

 private:
  rfb::ClientConnection conn_;
  rfb::ViewerEncoders encoders_;
  rfb::PixelParams params_{.encoding = rfb::Encoding::tight, .compress_level = 6};
  framebuffer::Damage changed_;
  std::size_t bytes_ = 0;
};

void bm_lone_viewer(benchmark::State& state, std::shared_ptr<const bench::Capture> capture) {
  const auto options = *bench::client_options(capture->header);
  std::size_t bytes = 0;
  try {
    for (auto _ : state) {
      LoneViewer viewer(options);
      feed_in_chunks(viewer.connection(), capture->stream);
      bytes = viewer.bytes();
    }
  } catch (const vncgate::Error& e) {
    state.SkipWithError(e.what());
    return;
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}

void bm_memcpy_frame(benchmark::State& state) {
  constexpr std::size_t kPixels = 1280 * 800;
  std::vector<std::uint32_t> src(kPixels), dst(kPixels);
  for (std::size_t i = 0; i < kPixels; ++i) src[i] = static_cast<std::uint32_t>(i * 2654435761u) & 0xffffff;
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), kPixels * sizeof(std::uint32_t));
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  const auto n = static_cast<double>(state.iterations());
  state.counters["Mpx/s"] = benchmark::Counter(n * kPixels / 1e6, benchmark::Counter::kIsRate);
  state.counters["MB/s"] = benchmark::Counter(n * kPixels * 4 / 1e6, benchmark::Counter::kIsRate);
}

// Capture files named on the command line (--captures X, --captures=X; removed from argv) or in
// $VNCGATE_CAPTURES (colon-separated); directories contribute their *.vgcap files, sorted.
std::vector<fs::path> capture_paths(int& argc, char** argv) {
  std::vector<std::string> sources;
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--captures" && i + 1 < argc) {
      sources.push_back(argv[++i]);
    } else if (arg.rfind("--captures=", 0) == 0) {
      sources.push_back(arg.substr(11));
    } else {
      argv[out++] = argv[i];
    }
  }
  argc = out;
  if (const char* env = std::getenv("VNCGATE_CAPTURES"); env && sources.empty()) {
    std::string list = env;
    for (std::size_t start = 0; start <= list.size();) {
      const auto colon = std::min(list.find(':', start), list.size());
      if (colon > start) sources.push_back(list.substr(start, colon - start));
      start = colon + 1;
    }
  }
  std::vector<fs::path> paths;
  for (const auto& s : sources) {
    if (fs::is_directory(s)) {
      std::vector<fs::path> found;
      for (const auto& entry : fs::directory_iterator(s))
        if (entry.path().extension() == ".vgcap") found.push_back(entry.path());
      std::sort(found.begin(), found.end());
      paths.insert(paths.end(), found.begin(), found.end());
    } else {
      paths.emplace_back(s);
    }
  }
  return paths;
}

}  // namespace

int main(int argc, char** argv) {
  const auto paths = capture_paths(argc, argv);
  benchmark::RegisterBenchmark("memcpy_frame/1280x800", bm_memcpy_frame);
  for (const auto& path : paths) {
    try {
      auto capture = std::make_shared<const bench::Capture>(bench::read_capture(path.string()));
      benchmark::RegisterBenchmark(("replay/" + path.stem().string()).c_str(), bm_replay, capture)
          ->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark(("lone_viewer/" + path.stem().string()).c_str(), bm_lone_viewer, capture)
          ->Unit(benchmark::kMillisecond);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "vncgate_decoder_bench: %s\n", e.what());
      return 1;
    }
  }
  if (paths.empty())
    std::fprintf(stderr, "vncgate_decoder_bench: no captures given (--captures or $VNCGATE_CAPTURES)\n");
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
