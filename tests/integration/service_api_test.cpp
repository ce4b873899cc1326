// SPDX-License-Identifier: Apache-2.0
// `vncgate serve` end to end through its HTTP API against a real QEMU guest: the seed's POST /record, the
// recordings API, downloads with Range, thumbnails, metrics, cancel, 20 concurrent jobs and every kind of bad
// input. ffprobe/ffmpeg read the results; QMP screendump is the pixel oracle.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <thread>

#include "service_fixture.hpp"
#include "support/image.hpp"
#include "support/media.hpp"
#include "support/qemu.hpp"
#include "support/s3rver.hpp"

namespace vncgate::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class ServiceApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    guest_ = new QemuGuest(QemuOptions{.mode = "text"});
    dir_ = new TempDir("vncgate-serve");
    serve_ = new ServeProcess(ServeOptions{
        .data_dir = dir_->path(),
        .targets = {"demo=" + guest_->vnc_url()},
        .extra_args = {"--max-jobs", "4", "--set", "jobs.max_duration_s=3600", "--set", "jobs.max_count=100"}});
    serve_->start();
  }
  static void TearDownTestSuite() {
    delete serve_;
    delete dir_;
    delete guest_;
  }
  static std::string bucket_dir(const std::string& bucket) { return dir_->path() + "/recordings/" + bucket; }

  static inline QemuGuest* guest_ = nullptr;
  static inline TempDir* dir_ = nullptr;
  static inline ServeProcess* serve_ = nullptr;
};

TEST_F(ServiceApiTest, SeedCallRecordsGapFreeSegmentsIntoTheBucket) {
  const auto started = std::chrono::steady_clock::now();
  auto created = serve_->json("POST", "/record", R"({"server": "demo", "duration": 3, "count": 2})", 202);
  const std::string bucket = created.at("bucket_id"), id = created.at("job_id");
  ASSERT_EQ(bucket.size(), 36u);
  // Recording starts within a second (the guest is local: connecting and the first frame are quick).
  auto job = serve_->wait_state(id, "recording", std::chrono::seconds(10));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
  job = serve_->wait_state(id, "done", std::chrono::seconds(40));
  ASSERT_EQ(job.at("segments").size(), 2u) << job.dump();

  std::vector<std::string> states;
  for (const auto& t : job.at("transitions")) states.push_back(t.at("state"));
  EXPECT_EQ(states, (std::vector<std::string>{"queued", "connecting", "recording", "uploading", "done"}));
  for (const auto& s : job.at("segments")) {
    EXPECT_EQ(s.at("state"), "uploaded");
    EXPECT_NEAR(s.at("duration").get<double>(), 3.0, 0.05);
  }
  EXPECT_EQ(job.at("segments")[0].at("end"), job.at("segments")[1].at("start")) << "no gap between segments";

  // The bucket holds what the seed promised: the MP4s (and their sidecars), checked with ffprobe and sha256.
  for (int n = 1; n <= 2; ++n) {
    const std::string mp4 = bucket_dir(bucket) + "/segment-00" + std::to_string(n) + ".mp4";
    ASSERT_TRUE(fs::exists(mp4)) << mp4;
    EXPECT_NEAR(probe_duration(mp4), 3.0, 0.1);
    const auto sidecar = json::parse(read_file(bucket_dir(bucket) + "/segment-00" + std::to_string(n) + ".json"));
    EXPECT_EQ(sidecar.at("sha256"), sha256_of_file(mp4));
    EXPECT_EQ(job.at("segments")[n - 1].at("sha256"), sidecar.at("sha256"));
  }
  const auto frames = decode_frames(bucket_dir(bucket) + "/segment-002.mp4", 720, 400);
  ASSERT_FALSE(frames.empty());
  EXPECT_GT(psnr(guest_->screendump(), frames.back()), 40.0) << "last frame vs the guest's own framebuffer";

  // Download through the API, whole and by range.
  const std::string mp4 = read_file(bucket_dir(bucket) + "/segment-001.mp4");
  auto whole = serve_->request("GET", "/api/v1/recordings/" + id + "/segments/1");
  EXPECT_EQ(whole.status, 200);
  EXPECT_EQ(whole.header("Content-Type").value_or(""), "video/mp4");
  EXPECT_EQ(whole.body, mp4);
  auto part = serve_->request("GET", "/api/v1/recordings/" + id + "/segments/1", {}, {{"Range", "bytes=100-299"}});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, mp4.substr(100, 200));
  EXPECT_EQ(part.header("Content-Range").value_or(""), "bytes 100-299/" + std::to_string(mp4.size()));
  auto tail = serve_->request("GET", "/api/v1/recordings/" + id + "/segments/1", {}, {{"Range", "bytes=-10"}});
  EXPECT_EQ(tail.body, mp4.substr(mp4.size() - 10));
  auto beyond = serve_->request("GET", "/api/v1/recordings/" + id + "/segments/1", {},
                                {{"Range", "bytes=" + std::to_string(mp4.size()) + "-"}});
  EXPECT_EQ(beyond.status, 416);
  EXPECT_EQ(serve_->request("GET", "/api/v1/recordings/" + id + "/segments/3").status, 404);
  auto sidecar = serve_->request("GET", "/api/v1/recordings/" + id + "/segments/2/sidecar");
  EXPECT_EQ(sidecar.status, 200);
  EXPECT_EQ(json::parse(sidecar.body).at("segment"), 2);

  auto thumbnail = serve_->request("GET", "/api/v1/recordings/" + id + "/thumbnail");
  EXPECT_EQ(thumbnail.status, 200);
  EXPECT_EQ(thumbnail.header("Content-Type").value_or(""), "image/png");
  EXPECT_EQ(thumbnail.body.substr(1, 3), "PNG");

  auto metrics = serve_->request("GET", "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("vncgate_jobs{state=\"done\"}"), std::string::npos) << metrics.body;
  EXPECT_NE(metrics.body.find("vncgate_frames_total"), std::string::npos);
  EXPECT_NE(metrics.body.find("vncgate_upload_bytes_total"), std::string::npos);
  EXPECT_NE(metrics.body.find("route=\"/record\""), std::string::npos);
}

// A job that records FBS too shows a segment's picture at a time losslessly from it (the sidecar places the
// instant in the FBS file, the checkpoint sidecar built at the end makes it a seek): exactly the guest's own
// framebuffer (the text guest's screen holds still). A job without FBS decodes the MP4.
TEST_F(ServiceApiTest, FrameAtATimeComesLosslesslyFromTheFbsRecording) {
  const auto before = guest_->screendump();
  auto id = serve_->json("POST", "/record", R"({"server": "demo", "duration": 2, "count": 2, "fbs": true})", 202)
                .at("job_id")
                .get<std::string>();
  auto plain = serve_->json("POST", "/record", R"({"server": "demo", "duration": 1, "count": 1})", 202)
                   .at("job_id")
                   .get<std::string>();
  const auto job = serve_->wait_state(id, "done", std::chrono::seconds(40));
  serve_->wait_state(plain, "done", std::chrono::seconds(40));
  ASSERT_EQ(diff_summary(before, guest_->screendump()), "") << "the guest's screen was meant to hold still";

  const auto sidecar = json::parse(serve_->request("GET", "/api/v1/recordings/" + id + "/segments/2/sidecar").body);
  ASSERT_EQ(sidecar.at("fbs").size(), 1u) << sidecar.dump();
  EXPECT_EQ(sidecar.at("fbs")[0].at("file"), "recording.fbs");
  EXPECT_GT(sidecar.at("fbs")[0].at("offset_s").get<double>(), 1.9) << "segment 2 begins ~2 s into the file";
  EXPECT_TRUE(fs::exists(bucket_dir(job.at("bucket_id")) + "/recording.fbs.ckpt"));

  TempDir dir("vncgate-frame");
  for (const char* t : {"0", "1", "1.5", "60"}) {
    const auto frame = serve_->request("GET", "/api/v1/recordings/" + id + "/segments/2/frame?width=4096&t=" + t);
    ASSERT_EQ(frame.status, 200) << frame.body;
    EXPECT_EQ(frame.header("X-Frame-Source").value_or(""), "fbs") << "t=" << t;
    write_file(dir.file("frame.png"), frame.body);
    EXPECT_EQ(diff_summary(before, load_png(dir.file("frame.png"))), "") << "t=" << t << " vs QMP screendump";
  }
  const auto small = serve_->request("GET", "/api/v1/recordings/" + id + "/segments/1/frame?t=1");
  EXPECT_EQ(small.header("X-Frame-Source").value_or(""), "fbs");
  write_file(dir.file("small.png"), small.body);
  const auto small_width = load_png(dir.file("small.png")).width();  // sampled every n-th pixel: 720 / 3
  EXPECT_TRUE(small_width > 160 && small_width <= 320) << small_width;

  // A damaged FBS recording (here truncated after its header): the MP4 still has the picture.
  const std::string bucket = job.at("bucket_id");
  for (const auto& entry : fs::recursive_directory_iterator(dir_->path()))
    if (entry.path().filename() == "recording.fbs" && (entry.path().string().find(id) != std::string::npos ||
                                                       entry.path().string().find(bucket) != std::string::npos))
      write_file(entry.path().string(), read_file(entry.path().string()).substr(0, 100));
  const auto fallback = serve_->request("GET", "/api/v1/recordings/" + id + "/segments/2/frame?t=1");
  EXPECT_EQ(fallback.status, 200) << fallback.body;
  EXPECT_EQ(fallback.header("X-Frame-Source").value_or(""), "mp4");

  const auto mp4 = serve_->request("GET", "/api/v1/recordings/" + plain + "/segments/1/frame?t=0.5&width=4096");
  ASSERT_EQ(mp4.status, 200) << mp4.body;
  EXPECT_EQ(mp4.header("X-Frame-Source").value_or(""), "mp4");
  write_file(dir.file("mp4.png"), mp4.body);
  EXPECT_GT(psnr(before, load_png(dir.file("mp4.png"))), 40.0);
}

// Kept only in S3 (s3rver), a job's FBS recording still gives the picture at a time losslessly: its checkpoint
// sidecar, the segment's sidecar and the recording's header are copied once to work_dir/seek-cache and the
// recording is read by ranges from the checkpoint on.
// Without the FBS files in storage, the MP4 is decoded.
TEST_F(ServiceApiTest, FrameAtATimeComesFromAnFbsRecordingKeptOnlyInS3) {
  TempDir dir("vncgate-serve-s3frame");
  S3rver s3(dir.file("s3"), dir.file("s3rver.log"));
  ServeProcess serve(ServeOptions{.data_dir = dir.path(),
                                  .storage_url = "s3://127.0.0.1:" + std::to_string(s3.port()) + "?tls=off",
                                  .targets = {"demo=" + guest_->vnc_url()},
                                  .env = {{"VNCGATE_S3_ACCESS_KEY", "S3RVER"}, {"VNCGATE_S3_SECRET_KEY", "S3RVER"}}});
  serve.start();
  const auto before = guest_->screendump();
  const auto id = serve.json("POST", "/record", R"({"server": "demo", "duration": 2, "count": 2, "fbs": true})", 202)
                      .at("job_id")
                      .get<std::string>();
  serve.wait_state(id, "done", std::chrono::seconds(40));
  ASSERT_EQ(diff_summary(before, guest_->screendump()), "") << "the guest's screen was meant to hold still";
  ASSERT_FALSE(fs::exists(dir.file("work/" + id + "/recording.fbs"))) << "uploaded: only S3 has the recording";

  for (const char* t : {"0.5", "1.5", "1.5"}) {  // the second 1.5 uses the copy the first one made
    const auto frame = serve.request("GET", "/api/v1/recordings/" + id + "/segments/2/frame?width=4096&t=" + t);
    ASSERT_EQ(frame.status, 200) << frame.body << serve.log_tail();
    EXPECT_EQ(frame.header("X-Frame-Source").value_or(""), "fbs") << "t=" << t << serve.log_tail();
    write_file(dir.file("frame.png"), frame.body);
    EXPECT_EQ(diff_summary(before, load_png(dir.file("frame.png"))), "") << "t=" << t << " vs QMP screendump";
  }
  std::set<std::string> copies;  // one copy each of the checkpoints, the segment's sidecar, the recording's head
  for (const auto& entry : fs::recursive_directory_iterator(dir.file("work/seek-cache")))
    if (entry.is_regular_file()) {
      EXPECT_EQ(entry.path().parent_path().filename(), id);
      copies.insert(entry.path().extension().string());
    }
  EXPECT_EQ(copies, (std::set<std::string>{".ckpt", ".head", ".json"})) << "and no partial files";

  // The FBS files gone from storage (s3rver keeps each object as files named after its key): the MP4 then,
  // with the copy of the checkpoints (a storage fault on the way) and without it (nothing to seek with).
  for (const auto& entry : fs::recursive_directory_iterator(dir.file("s3")))
    if (entry.path().filename().string().starts_with("recording.fbs")) fs::remove(entry.path());
  for (const bool copy_kept : {true, false}) {
    if (!copy_kept) fs::remove_all(dir.file("work/seek-cache"));
    const auto fallback = serve.request("GET", "/api/v1/recordings/" + id + "/segments/2/frame?width=4096&t=1");
    ASSERT_EQ(fallback.status, 200) << fallback.body;
    EXPECT_EQ(fallback.header("X-Frame-Source").value_or(""), "mp4") << copy_kept;
    write_file(dir.file("mp4.png"), fallback.body);
    EXPECT_GT(psnr(before, load_png(dir.file("mp4.png"))), 40.0);
  }
}

TEST_F(ServiceApiTest, ListsFiltersAndPages) {
  std::set<std::string> ids;
  for (int i = 0; i < 3; ++i)
    ids.insert(
        serve_->json("POST", "/api/v1/recordings", R"({"server": "demo", "duration": 1, "count": 1, "fps": 5})", 202)
            .at("job_id")
            .get<std::string>());
  for (const auto& id : ids) serve_->wait_state(id, "done", std::chrono::seconds(40));
  auto first = serve_->json("GET", "/api/v1/recordings?server=demo&limit=2");
  ASSERT_EQ(first.at("recordings").size(), 2u);
  ASSERT_TRUE(first.at("next_cursor").is_string());
  auto second = serve_->json(
      "GET", "/api/v1/recordings?server=demo&limit=2&cursor=" + first.at("next_cursor").get<std::string>());
  EXPECT_GE(second.at("recordings").size(), 1u);
  EXPECT_NE(first.at("recordings")[0].at("job_id"), second.at("recordings")[0].at("job_id"));
  auto done = serve_->json("GET", "/api/v1/recordings?state=done&limit=1000");
  for (const auto& job : done.at("recordings")) EXPECT_EQ(job.at("state"), "done");
  EXPECT_TRUE(serve_->json("GET", "/api/v1/recordings?server=nosuch").at("recordings").empty());
  EXPECT_EQ(serve_->json("GET", "/api/v1/recordings/" + *ids.begin()).at("options").at("fps"), 5);
}

TEST_F(ServiceApiTest, CancelStopsTheJobAndKeepsFinishedSegments) {
  auto id = serve_->json("POST", "/api/v1/recordings", R"({"server": "demo", "duration": 2, "count": 10})", 202)
                .at("job_id")
                .get<std::string>();
  serve_->wait_job(
      id, [](const json& j) { return !j.at("progress").is_null() && j.at("progress").at("segment") >= 2; },
      std::chrono::seconds(30));
  auto cancelled = serve_->json("DELETE", "/api/v1/recordings/" + id);
  EXPECT_TRUE(cancelled.at("cancel_requested").get<bool>());
  auto job = serve_->wait_state(id, "cancelled", std::chrono::seconds(15));
  job = serve_->wait_job(
      id,
      [](const json& j) {
        for (const auto& s : j.at("segments"))
          if (s.at("state") == "finished") return false;
        return true;
      },
      std::chrono::seconds(15));
  ASSERT_GE(job.at("segments").size(), 2u);
  EXPECT_LT(job.at("segments").size(), 10u);
  EXPECT_EQ(job.at("segments")[0].at("state"), "uploaded");
  const auto& last = job.at("segments").back();
  EXPECT_EQ(last.at("state"), "uploaded") << "the open segment is closed at the cancel and kept";
  EXPECT_LT(last.at("duration").get<double>(), 2.0);
  EXPECT_TRUE(fs::exists(bucket_dir(job.at("bucket_id")) + "/segment-001.mp4"));
  // Cancelling again, or a finished job, changes nothing.
  EXPECT_EQ(serve_->json("DELETE", "/api/v1/recordings/" + id).at("state"), "cancelled");
}

TEST_F(ServiceApiTest, TwentyConcurrentJobsQueueBeyondTheLimit) {
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i)
    ids.push_back(serve_->json("POST", "/record", R"({"server": "demo", "duration": 1, "count": 1, "fps": 2})", 202)
                      .at("job_id"));
  int max_active = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    auto page = serve_->json("GET", "/api/v1/recordings?limit=1000");
    int active = 0, done = 0;
    for (const auto& job : page.at("recordings")) {
      if (std::find(ids.begin(), ids.end(), job.at("job_id")) == ids.end()) continue;
      if (job.at("state") == "connecting" || job.at("state") == "recording") ++active;
      if (job.at("state") == "done") ++done;
      ASSERT_NE(job.at("state"), "failed") << job.dump();
    }
    max_active = std::max(max_active, active);
    if (done == 20) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_LE(max_active, 4) << "max_concurrent is 4";
  EXPECT_GE(max_active, 2);
  for (const auto& id : ids) {
    auto job = serve_->json("GET", "/api/v1/recordings/" + id);
    EXPECT_EQ(job.at("state"), "done") << job.dump();
    EXPECT_TRUE(fs::exists(bucket_dir(job.at("bucket_id")) + "/segment-001.mp4"));
  }
}

TEST_F(ServiceApiTest, BadInputGetsItsStatusCode) {
  struct Case {
    const char* method;
    const char* path;
    std::string body;
    int status;
    const char* code;
  };
  const std::vector<Case> cases = {
      {"POST", "/record", "{not json", 400, "malformed_json"},
      {"POST", "/record", "[1, 2]", 400, "invalid_body"},
      {"POST", "/record", R"({"duration": 5, "count": 1})", 400, "missing_field"},
      {"POST", "/record", R"({"server": "demo", "count": 1})", 400, "missing_field"},
      {"POST", "/record", R"({"server": 42, "duration": 5, "count": 1})", 400, "invalid_field"},
      {"POST", "/record", R"({"server": "demo", "duration": "5", "count": 1})", 400, "invalid_field"},
      {"POST", "/record", R"({"server": "demo", "duration": -5, "count": 1})", 400, "invalid_field"},
      {"POST", "/record", R"({"server": "demo", "duration": 0, "count": 1})", 400, "invalid_field"},
      {"POST", "/record", R"({"server": "demo", "duration": 2.5, "count": 1})", 400, "invalid_field"},
      {"POST", "/record", R"({"server": "demo", "duration": 1e300, "count": 1})", 400, "invalid_field"},
      {"POST", "/record", R"({"server": "demo", "duration": 99999999, "count": 1})", 400, "invalid_field"},
      {"POST", "/record", R"({"server": "demo", "duration": 5, "count": 1000000000})", 400, "invalid_field"},
      {"POST", "/record", R"({"server": "demo", "duration": 5, "count": 18446744073709551615})", 400, "invalid_field"},
      {"POST", "/record", R"({"server": "demo", "duration": 5, "count": 1, "width": 641, "height": 480})", 400,
       "invalid_field"},
      {"POST", "/record", R"({"server": "demo", "duration": 5, "count": 1, "width": 640})", 400, "invalid_field"},
      {"POST", "/record", R"({"server": "demo", "duration": 5, "count": 1, "fps": 0})", 400, "invalid_field"},
      {"POST", "/record", R"({"server": "demo", "duration": 5, "count": 1, "quality": 99})", 400, "invalid_field"},
      {"POST", "/record", R"({"server": "demo", "duration": 5, "count": 1, "fbs": "yes"})", 400, "invalid_field"},
      {"POST", "/record", R"({"server": "demo", "duration": 5, "count": 1, "provider": "vmware"})", 400,
       "unknown_provider"},
      {"POST", "/record", R"({"server": "vm-1", "duration": 5, "count": 1, "provider": "openstack"})", 400,
       "unknown_provider"},
      {"POST", "/record", R"({"server": "nosuch", "duration": 5, "count": 1, "provider": "direct"})", 404,
       "unknown_server"},
      {"POST", "/record", std::string(2 << 20, ' '), 413, "body_too_large"},
      {"GET", "/api/v1/recordings/0123456789abcdef0123456789abcdef", "", 404, "not_found"},
      {"GET", "/api/v1/recordings/../../etc/passwd", "", 400, "bad_path"},
      {"DELETE", "/api/v1/recordings/nosuch", "", 404, "not_found"},
      {"GET", "/api/v1/recordings?state=sleeping", "", 400, "invalid_query"},
      {"GET", "/api/v1/recordings?limit=0", "", 400, "invalid_query"},
      {"GET", "/api/v1/recordings?cursor=garbage", "", 400, nullptr},
      {"GET", "/api/v1/nosuch", "", 404, "not_found"},
      {"PUT", "/record", "", 405, "method_not_allowed"},
  };
  for (const auto& c : cases) {
    auto response = serve_->request(c.method, c.path, c.body);
    EXPECT_EQ(response.status, c.status) << c.method << " " << c.path << " " << c.body.substr(0, 80) << " → "
                                         << response.body;
    auto parsed = json::parse(response.body, nullptr, false);
    ASSERT_FALSE(parsed.is_discarded()) << response.body;
    if (c.code != nullptr) {
      EXPECT_EQ(parsed.at("error").at("code"), c.code) << response.body;
    }
    EXPECT_TRUE(parsed.at("error").at("message").is_string());
  }
  EXPECT_EQ(serve_->request("GET", "/healthz").status, 200) << "still alive after all that";
}

TEST_F(ServiceApiTest, HealthReadinessAndTheOpenApiDocument) {
  EXPECT_EQ(serve_->json("GET", "/healthz").at("status"), "ok");
  auto ready = serve_->json("GET", "/readyz");
  EXPECT_EQ(ready.at("checks").at("storage"), "ok");
  auto doc = serve_->request("GET", "/api/v1/openapi.yaml");
  EXPECT_EQ(doc.status, 200);
  EXPECT_EQ(doc.body, read_file(VNCGATE_SOURCE_DIR "/docs/openapi.yaml"));
}

}  // namespace
}  // namespace vncgate::test

namespace vncgate::test {
namespace {

TEST(ServeConfig, PrintConfigMasksSecretsAndBadConfigNamesTheKey) {
  TempDir dir("vncgate-serve-config");
  write_file(dir.file("vncgate.toml"), "[server]\nport = 9123\n[targets]\nlab = \"vnc://:hunter2@127.0.0.1:5901\"\n");
  const std::string out = dir.file("print.out");
  ASSERT_EQ(run_command({VNCGATE_BINARY, "serve", "--config", dir.file("vncgate.toml"), "--print-config", "--set",
                         "server.api_keys=topsecretkey0123", "--port", "9124"},
                        out),
            0)
      << read_file(out);
  const auto text = read_file(out);
  EXPECT_NE(text.find("port = 9124"), std::string::npos) << "flags win over the file\n" << text;
  EXPECT_NE(text.find("lab = "), std::string::npos) << text;
  EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;
  EXPECT_EQ(text.find("topsecretkey0123"), std::string::npos) << text;

  EXPECT_EQ(run_command({VNCGATE_BINARY, "serve", "--set", "jobs.max_concurrent=many"}, out), 2);
  EXPECT_NE(read_file(out).find("jobs.max_concurrent"), std::string::npos) << read_file(out);
  EXPECT_EQ(run_command({VNCGATE_BINARY, "serve", "--bind", "0.0.0.0", "--port", "0"}, out), 2)
      << "an open bind without API keys is refused";
  EXPECT_NE(read_file(out).find("api_keys"), std::string::npos) << read_file(out);
}

}  // namespace
}  // namespace vncgate::test
