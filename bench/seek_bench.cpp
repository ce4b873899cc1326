// SPDX-License-Identifier: Apache-2.0
// vncgate_seek_bench FILE.fbs: how long showing an instant of a recording takes (docs/fbs.md §7, issue 18
// item 6: any instant of a one-hour 1280x800 recording in <= 50 ms). Removes FILE's checkpoint sidecar, then
// measures: decoding the whole file; building the sidecar again (a replay from the start that adds them); the
// time to the first frame of a replay from random instants with the checkpoints, and from a few instants
// without them (decoding from the start, as before).
// Last, the time a search hit's thumbnail takes there (GET .../segments/{n}/frame?t= of a job that recorded FBS:
// the picture from the checkpoint before t, 320 wide, as a PNG).
// With --storage URL (s3://…, credentials in VNCGATE_S3_*) the FBS file and its sidecar are uploaded there and
// the thumbnails timed again as `serve` makes them for a job kept only in S3: the sidecar copied once, the
// recording read by ranges from the checkpoint on (service::stored_range_source).
// vncgate_seek_bench FILE.mp4 --mp4-length S: the same thumbnails from an MP4 (a job without FBS, or storage
// that is not a local directory: the keyframe before t, then forward).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "fbs/checkpoints.hpp"
#include "fbs/reader.hpp"
#include "fbs/replay.hpp"
#include "framebuffer/png.hpp"
#include "record/mp4_frame.hpp"
#include "service/segment_frames.hpp"
#include "storage/storage.hpp"

namespace {

using namespace vncgate;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Time to the first frame of a replay from `at` (the picture a seek shows).
double seek(const std::string& file, std::uint32_t at, const fbs::ReplayOptions& options, bool* resumed = nullptr) {
  const auto start = Clock::now();
  const auto result =
      fbs::Replay(fbs::Reader::open(file), options).run(at, UINT32_MAX, [](const fbs::Frame&) { return false; });
  const double took = ms_since(start);
  if (resumed) *resumed = result.resumed_at_ms.has_value();
  return took;
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

// The frame endpoint's work (the picture at t, 320 wide, as a PNG) at random instants of a recording `length`
// seconds long.
void time_thumbnails(const char* source, double length, int samples,
                     const std::function<framebuffer::PixelBuffer(double)>& picture_at) {
  auto thumbnail = [&](double at) {
    const auto start = Clock::now();
    [[maybe_unused]] const auto png = framebuffer::encode_png(framebuffer::shrink_to_width(picture_at(at), 320));
    return ms_since(start);
  };
  std::mt19937 random(42);
  std::uniform_real_distribution<double> instant(0, length);
  std::vector<double> times;
  for (int i = 0; i < samples; ++i) times.push_back(thumbnail(instant(random)));
  std::printf(
      "thumbnail from %s (frame?t=, 320 wide PNG), %d random instants of %.0f s: median %.1f ms, p95 %.1f ms, "
      "max %.1f ms\n",
      source, samples, length, percentile(times, 0.5), percentile(times, 0.95), percentile(times, 1.0));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("time to show an instant of an FBS recording, with and without checkpoints");
  std::string file;
  int samples = 200;
  double mp4_length = 0;
  std::string storage_url;
  app.add_option("file", file, "FBS recording (or MP4 with --mp4-length)")->required()->check(CLI::ExistingFile);
  app.add_option("--samples", samples, "random instants to show");
  app.add_option("--mp4-length", mp4_length, "FILE is an MP4 this many seconds long: time its thumbnails instead");
  app.add_option("--storage", storage_url, "also time thumbnails of the recording kept in this storage (s3://…)");
  CLI11_PARSE(app, argc, argv);
  if (mp4_length > 0) {
    const auto source = record::file_range_source(file);
    if (!source) {
      std::fprintf(stderr, "cannot open %s\n", file.c_str());
      return 1;
    }
    time_thumbnails("the MP4", mp4_length, samples, [&](double at) { return record::mp4_frame_at(*source, at); });
    return 0;
  }

  const auto sidecar = fbs::checkpoints_path_for(file);
  std::filesystem::remove(sidecar);
  const auto summary = fbs::summarize(fbs::Reader::open(file));
  const std::uint32_t length = summary.duration_ms;
  std::printf("recording: %.1f s, %.1f MiB of RFB data, %llu blocks\n", length / 1000.0, summary.data_bytes / 1048576.0,
              static_cast<unsigned long long>(summary.blocks));

  auto start = Clock::now();
  fbs::Replay(fbs::Reader::open(file)).run([](const fbs::Frame&) { return true; });
  std::printf("decode all, no checkpoints: %.0f ms\n", ms_since(start));

  fbs::ReplayOptions build;
  build.checkpoints = sidecar;
  build.build_checkpoints = true;
  start = Clock::now();
  const auto built = fbs::Replay(fbs::Reader::open(file), build).run([](const fbs::Frame&) { return true; });
  std::printf("decode all, adding checkpoints: %.0f ms, %llu checkpoints, sidecar %.1f MiB\n", ms_since(start),
              static_cast<unsigned long long>(built.checkpoints_added),
              std::filesystem::file_size(sidecar) / 1048576.0);

  fbs::ReplayOptions use;
  use.checkpoints = sidecar;
  std::mt19937 random(42);
  std::uniform_int_distribution<std::uint32_t> instant(0, length);
  std::vector<double> with;
  int resumed_count = 0;
  for (int i = 0; i < samples; ++i) {
    bool resumed = false;
    with.push_back(seek(file, instant(random), use, &resumed));
    resumed_count += resumed;
  }
  std::printf(
      "seek with checkpoints, %d random instants (%d from a checkpoint): median %.1f ms, p95 %.1f ms, "
      "max %.1f ms\n",
      samples, resumed_count, percentile(with, 0.5), percentile(with, 0.95), percentile(with, 1.0));
  for (double fraction : {0.25, 0.5, 1.0}) {
    const auto at = static_cast<std::uint32_t>(length * fraction);
    std::printf("seek to %.0f%% (%.0f s): %.1f ms without checkpoints, %.1f ms with\n", fraction * 100, at / 1000.0,
                seek(file, at, {}), seek(file, at, use));
  }
  time_thumbnails("the FBS file and its checkpoints", length / 1000.0, samples, [&](double at) {
    auto picture = fbs::picture_at(fbs::Reader::open(file), static_cast<std::uint32_t>(at * 1000), use, 320);
    if (!picture) throw std::runtime_error("no picture at " + std::to_string(at) + " s");
    return std::move(*picture);
  });
  if (!storage_url.empty()) {
    const auto site = storage::StorageSite::open(storage_url);
    const auto where = site.locate_job("seek-bench");
    auto stored = site.shared_storage();
    stored->ensure_bucket(where.bucket);
    const auto key = where.prefix + std::filesystem::path(file).filename().string();
    stored->put_file(where.bucket, key, file);
    stored->put_file(where.bucket, fbs::checkpoints_path_for(key), sidecar);
    start = Clock::now();
    const auto copy = stored->read(where.bucket, fbs::checkpoints_path_for(key));
    const auto local_copy = sidecar + ".copy";
    {
      std::ofstream out(local_copy, std::ios::binary);
      out.write(copy->data(), static_cast<std::streamsize>(copy->size()));
    }
    std::printf("the sidecar copied from %s once: %.1f ms\n", stored->describe().c_str(), ms_since(start));
    // The endpoint keeps the recording's first bytes (its header) beside the sidecar copy too: each thumbnail
    // then reads only the recording from the checkpoint before t on.
    const auto head = stored->read(where.bucket, key, storage::ByteRange{0, service::kRecordingHeadBytes});
    time_thumbnails("the FBS file in storage, by ranges", length / 1000.0, samples, [&](double at) {
      auto picture = service::stored_fbs_picture(stored, where.bucket, key, local_copy, *head,
                                                 static_cast<std::uint32_t>(at * 1000), 320);
      if (!picture) throw std::runtime_error("no picture at " + std::to_string(at) + " s");
      return std::move(*picture);
    });
  }
  return 0;
}
