// SPDX-License-Identifier: Apache-2.0
// `vncgate serve` when things go wrong, and with S3: kill -9 in the middle of a job and restart (the job
// resumes, no finished segment is lost or uploaded twice; its console may come back later, or too late), a new
// job whose console is still booting, a graceful restart, storage down (503), API keys, and the seed call into
// s3rver read back with the minio npm client.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "service_fixture.hpp"
#include "support/media.hpp"
#include "support/qemu.hpp"
#include "support/s3rver.hpp"
#include "support/xvnc.hpp"

namespace vncgate::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class ServiceRecoveryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { guest_ = new QemuGuest(QemuOptions{.mode = "tick"}); }
  static void TearDownTestSuite() { delete guest_; }
  static inline QemuGuest* guest_ = nullptr;
};

std::vector<int> indexes(const json& job, const std::string& state) {
  std::vector<int> out;
  for (const auto& s : job.at("segments"))
    if (s.at("state") == state) out.push_back(s.at("index"));
  return out;
}

// POST /record of `count` 3-second segments of target "demo" (with the lossless FBS stream when `fbs`);
// returns the job id.
std::string record_demo(const ServeProcess& serve, int count, bool fbs = false) {
  const auto body = R"({"server": "demo", "duration": 3, "fbs": )" + std::string(fbs ? "true" : "false") +
                    R"(, "count": )" + std::to_string(count) + "}";
  return serve.json("POST", "/record", body, 202).at("job_id").get<std::string>();
}

// Waits until the job is in the middle of segment 2 with segment 1 safe in storage; the job then.
json wait_mid_second_segment(const ServeProcess& serve, const std::string& id) {
  return serve.wait_job(
      id,
      [](const json& j) {
        return !j.at("progress").is_null() && j.at("progress").at("segment") == 2 &&
               j.at("progress").at("elapsed_s") > 4.0 && j.at("segments").size() >= 1 &&
               j.at("segments")[0].at("state") == "uploaded";
      },
      std::chrono::seconds(30));
}

TEST_F(ServiceRecoveryTest, KillNineMidJobThenRestartResumesTheCount) {
  TempDir dir("vncgate-serve-crash");
  ServeProcess serve(ServeOptions{.data_dir = dir.path(), .targets = {"demo=" + guest_->vnc_url()}});
  serve.start();
  const auto id = record_demo(serve, 3, /*fbs=*/true);
  wait_mid_second_segment(serve, id);
  serve.kill9();

  serve.start();
  auto job = serve.wait_state(id, "done", std::chrono::seconds(60));
  EXPECT_EQ(indexes(job, "uploaded"), (std::vector<int>{1, 3, 4})) << job.dump(1);
  // Each run's lossless stream is kept: the resumed run (from segment 3) never reuses the first run's name.
  const std::string stored = dir.path() + "/recordings/" + job.at("bucket_id").get<std::string>();
  const std::string work = dir.path() + "/work/" + id;
  for (const char* file : {"recording.fbs", "recording-from-003.fbs"})
    EXPECT_TRUE(fs::exists(stored + "/" + file) || fs::exists(work + "/" + file)) << file;
  // ...and listed and served by the API under those names.
  const auto files = job.at("files").dump();
  EXPECT_NE(files.find("recording-from-003.fbs.ckpt"), std::string::npos) << files;
  EXPECT_EQ(serve.request("GET", "/api/v1/recordings/" + id + "/files/recording-from-003.fbs").status, 200);
  EXPECT_EQ(indexes(job, "failed"), (std::vector<int>{2})) << "the segment cut by the crash";
  for (const auto& s : job.at("segments")) {
    if (s.at("index") == 2) {
      EXPECT_NE(s.at("error").get<std::string>().find("restart"), std::string::npos);
      continue;
    }
    EXPECT_EQ(s.at("upload_attempts"), 1) << "uploaded once";
    EXPECT_NEAR(s.at("duration").get<double>(), 3.0, 0.05);
  }
  const std::string bucket = dir.path() + "/recordings/" + job.at("bucket_id").get<std::string>();
  for (const char* file : {"segment-001.mp4", "segment-003.mp4", "segment-004.mp4"}) {
    EXPECT_TRUE(fs::exists(bucket + "/" + file)) << file;
    EXPECT_NEAR(probe_duration(bucket + "/" + file), 3.0, 0.1) << file;
  }
  // The partial segment the crash cut short is kept on local disk, playable up to the crash.
  const std::string partial = dir.path() + "/work/" + id + "/segment-002.mp4";
  ASSERT_TRUE(fs::exists(partial));
  EXPECT_GT(probe_duration(partial), 0.5);
  EXPECT_EQ(json::parse(read_file(bucket + "/segment-004.json")).at("segment"), 4);
}

// `make run`, POST /record, kill -9 of `vncgate serve` (`make run` stops the demo guest with it), `make run`
// again: the service is back before the console, and the resumed job waits for it as for a lost upstream.
TEST_F(ServiceRecoveryTest, KillNineWithTheConsoleBackSecondsLaterResumesOnceItIsThere) {
  TempDir dir("vncgate-serve-console-late");
  auto console = std::make_unique<QemuGuest>(QemuOptions{.mode = "tick"});
  const int port = console->port();
  // No connect grace: only the resume rule keeps the job waiting.
  ServeProcess serve(ServeOptions{
      .data_dir = dir.path(),
      .targets = {"demo=" + console->vnc_url()},
      .extra_args = {"--set", "recording.reconnect_timeout_s=20", "--set", "recording.connect_grace_s=0"}});
  serve.start();
  const auto id = record_demo(serve, 3);
  wait_mid_second_segment(serve, id);
  serve.kill9();
  console.reset();

  serve.start();
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_EQ(serve.json("GET", "/api/v1/recordings/" + id).at("state"), "connecting")
      << "waiting for its console, not failed\n"
      << serve.log_tail();
  console = std::make_unique<QemuGuest>(QemuOptions{.mode = "tick", .port = port});  // back where it was
  auto job = serve.wait_state(id, "done", std::chrono::seconds(60));
  EXPECT_EQ(indexes(job, "uploaded"), (std::vector<int>{1, 3, 4})) << job.dump(1);
  EXPECT_EQ(indexes(job, "failed"), (std::vector<int>{2})) << "the segment cut by the crash";
  const std::string bucket = dir.path() + "/recordings/" + job.at("bucket_id").get<std::string>();
  for (const char* file : {"segment-001.mp4", "segment-003.mp4", "segment-004.mp4"})
    EXPECT_NEAR(probe_duration(bucket + "/" + file), 3.0, 0.1) << file;
  EXPECT_NE(read_file(dir.path() + "/serve-2.log").find("retrying for up to 20 s"), std::string::npos);
}

// The same, with the console back only after the reconnect window: the job fails with the reason, and the
// segment finished before the crash stays uploaded.
TEST_F(ServiceRecoveryTest, KillNineWithTheConsoleGonePastTheReconnectWindowFailsKeepingWhatWasFinished) {
  TempDir dir("vncgate-serve-console-gone");
  auto console = std::make_unique<QemuGuest>(QemuOptions{.mode = "tick"});
  ServeProcess serve(
      ServeOptions{.data_dir = dir.path(),
                   .targets = {"demo=" + console->vnc_url()},
                   .extra_args = {"--set", "recording.reconnect_timeout_s=3", "--set", "recording.connect_grace_s=0"}});
  serve.start();
  const auto id = record_demo(serve, 3);
  const auto uploaded_sha = wait_mid_second_segment(serve, id).at("segments")[0].at("sha256");
  serve.kill9();
  console.reset();

  const auto restarted = std::chrono::steady_clock::now();
  serve.start();
  auto job = serve.wait_state(id, "failed", std::chrono::seconds(30));
  EXPECT_GE(std::chrono::steady_clock::now() - restarted, std::chrono::seconds(3)) << "not before the window";
  // The API names the kind of fault; the console's own words stay in the log (docs/security.md).
  const auto reason = job.at("failure_reason").get<std::string>();
  EXPECT_EQ(reason.rfind("io: ", 0), 0u) << reason;
  const auto log = serve.log_tail();
  EXPECT_NE(log.find("not reachable for 3 s after resuming, giving up"), std::string::npos) << log;
  EXPECT_NE(log.find("refused"), std::string::npos) << log;
  EXPECT_EQ(indexes(job, "uploaded"), (std::vector<int>{1})) << job.dump(1);
  EXPECT_EQ(indexes(job, "failed"), (std::vector<int>{2}));
  EXPECT_EQ(job.at("segments").size(), 2u) << "no segment started without a console";
  const std::string bucket = dir.path() + "/recordings/" + job.at("bucket_id").get<std::string>();
  EXPECT_EQ(sha256_of_file(bucket + "/segment-001.mp4"), uploaded_sha);
}

// Recording a VM that is still booting: a new job waits `recording.connect_grace_s` (10 s by default) for a
// console that refuses connections yet.
TEST_F(ServiceRecoveryTest, NewJobWaitsForAConsoleThatIsStillComingUp) {
  TempDir dir("vncgate-serve-booting");
  const int port = free_port();
  ServeProcess serve(ServeOptions{.data_dir = dir.path(), .targets = {"demo=vnc://127.0.0.1:" + std::to_string(port)}});
  serve.start();
  const auto id = record_demo(serve, 1);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_EQ(serve.json("GET", "/api/v1/recordings/" + id).at("state"), "connecting");
  QemuGuest console(QemuOptions{.mode = "tick", .port = port});
  auto job = serve.wait_state(id, "done", std::chrono::seconds(60));
  EXPECT_EQ(indexes(job, "uploaded"), (std::vector<int>{1})) << job.dump(1);
}

TEST_F(ServiceRecoveryTest, GracefulStopClosesTheSegmentAndTheJobResumes) {
  TempDir dir("vncgate-serve-term");
  ServeProcess serve(ServeOptions{.data_dir = dir.path(), .targets = {"demo=" + guest_->vnc_url()}});
  serve.start();
  const auto id = serve.json("POST", "/record", R"({"server": "demo", "duration": 4, "count": 2})", 202)
                      .at("job_id")
                      .get<std::string>();
  serve.wait_job(
      id, [](const json& j) { return !j.at("progress").is_null() && j.at("progress").at("elapsed_s") > 2.0; },
      std::chrono::seconds(30));
  const int status = serve.stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status << "\n" << serve.log_tail();
  serve.start();
  auto job = serve.wait_state(id, "done", std::chrono::seconds(60));
  // The segment open at the stop was closed cleanly and counts; the resumed job records the rest.
  ASSERT_EQ(job.at("segments").size(), 2u) << job.dump(1);
  EXPECT_LT(job.at("segments")[0].at("duration").get<double>(), 4.0) << "closed at the stop";
  EXPECT_NEAR(job.at("segments")[1].at("duration").get<double>(), 4.0, 0.05);
  EXPECT_EQ(indexes(job, "uploaded"), (std::vector<int>{1, 2}));
}

TEST_F(ServiceRecoveryTest, StorageDownRefusesJobsWith503) {
  TempDir dir("vncgate-serve-s3down");
  const int dead = free_port();
  ServeProcess serve(ServeOptions{.data_dir = dir.path(),
                                  .storage_url = "s3://127.0.0.1:" + std::to_string(dead) + "?tls=off",
                                  .targets = {"demo=" + guest_->vnc_url()},
                                  .env = {{"VNCGATE_S3_ACCESS_KEY", "k"}, {"VNCGATE_S3_SECRET_KEY", "s"}}});
  serve.start();
  auto response = serve.request("POST", "/record", R"({"server": "demo", "duration": 3, "count": 1})");
  EXPECT_EQ(response.status, 503) << response.body;
  EXPECT_EQ(json::parse(response.body).at("error").at("code"), "storage_unavailable");
  auto ready = serve.request("GET", "/readyz");
  EXPECT_EQ(ready.status, 503);
  EXPECT_EQ(json::parse(ready.body).at("checks").at("storage"), "failing");
  EXPECT_EQ(serve.request("GET", "/healthz").status, 200) << "alive, just not ready";
}

TEST_F(ServiceRecoveryTest, ApiKeysAreRequiredWhenConfigured) {
  TempDir dir("vncgate-serve-keys");
  write_file(dir.file("keys"), "# keys\nfirst-key-0123456789\nsecond-key-9876543210\n");
  ServeProcess serve(ServeOptions{.data_dir = dir.path(),
                                  .targets = {"demo=" + guest_->vnc_url()},
                                  .env = {{"VNCGATE_SERVER_API_KEYS_FILE", dir.file("keys")}}});
  serve.start();
  EXPECT_EQ(serve.request("GET", "/api/v1/recordings").status, 401);
  EXPECT_EQ(serve.request("GET", "/api/v1/recordings", {}, {{"Authorization", "Bearer wrong"}}).status, 401);
  EXPECT_EQ(serve.request("GET", "/api/v1/recordings", {}, {{"Authorization", "Bearer second-key-9876543210"}}).status,
            200);
  EXPECT_EQ(serve.request("GET", "/healthz").status, 200) << "health checks stay open";
  EXPECT_EQ(serve.request("GET", "/metrics").status, 200);
  const auto log = read_file(dir.path() + "/serve-1.log");
  EXPECT_EQ(log.find("first-key"), std::string::npos) << "keys are never logged";
}

TEST_F(ServiceRecoveryTest, SeedCallIntoS3ReadBackWithTheMinioClient) {
  TempDir dir("vncgate-serve-s3");
  S3rver s3(dir.file("s3"), dir.file("s3rver.log"));
  const int s3_port = s3.port();
  ServeProcess serve(ServeOptions{.data_dir = dir.path(),
                                  .storage_url = "s3://127.0.0.1:" + std::to_string(s3_port) + "?tls=off",
                                  .targets = {"demo=" + guest_->vnc_url()},
                                  .extra_args = {"--set", "recording.fbs=true"},
                                  .env = {{"VNCGATE_S3_ACCESS_KEY", "S3RVER"}, {"VNCGATE_S3_SECRET_KEY", "S3RVER"}}});
  serve.start();
  auto created = serve.json("POST", "/record", R"({"server": "demo", "duration": 2, "count": 2})", 202);
  const std::string bucket = created.at("bucket_id"), id = created.at("job_id");
  auto job = serve.wait_state(id, "done", std::chrono::seconds(60));

  // The minio client lists and downloads the bucket on its own and hashes what it got.
  auto seen = read_with_minio(dir.path(), s3_port, bucket);
  ASSERT_TRUE(seen.count("segment-001.mp4") && seen.count("segment-002.mp4"));
  EXPECT_TRUE(seen.count("segment-001.json") && seen.count("recording.fbs") && seen.count("recording.fbs.idx"));
  // The checkpoint sidecar, built when the recording ended, is uploaded beside them and served back.
  EXPECT_TRUE(seen.count("recording.fbs.ckpt"));
  auto files = job.at("files").dump();
  EXPECT_NE(files.find("recording.fbs.ckpt"), std::string::npos) << files;
  auto sidecar = serve.request("GET", "/api/v1/recordings/" + id + "/files/recording.fbs.ckpt");
  EXPECT_EQ(sidecar.status, 200);
  EXPECT_EQ(sidecar.body.substr(0, 8), "FBSCKP01");
  for (const auto& s : job.at("segments")) {
    char name[32];
    std::snprintf(name, sizeof name, "segment-%03d.mp4", s.at("index").get<int>());
    EXPECT_EQ(seen[name], s.at("sha256")) << name;
  }
  // Served back through the API from S3 (the local copies are gone once uploaded).
  EXPECT_FALSE(fs::exists(dir.path() + "/work/" + id + "/segment-001.mp4"));
  auto part = serve.request("GET", "/api/v1/recordings/" + id + "/segments/2", {}, {{"Range", "bytes=0-7"}});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body.substr(4, 4), "ftyp");
}

// A busy, losslessly recorded desktop makes segments of tens of MiB: their multipart upload streams 5 MiB parts
// while the segment is still being written, and the object read back equals the file.
TEST_F(ServiceRecoveryTest, BigSegmentsStreamToS3WhileRecording) {
  TempDir dir("vncgate-serve-stream");
  XvncServer xvnc(XvncOptions{.width = 1024, .height = 768});
  auto spew = xvnc.run_client(
      {"xterm", "-geometry", "160x60+0+0", "-e", "sh", "-c", "while :; do head -c 3000 /dev/urandom | base64; done"},
      "xterm.log");
  S3rver s3(dir.file("s3"), dir.file("s3rver.log"));
  const int s3_port = s3.port();
  ServeProcess serve(
      ServeOptions{.data_dir = dir.path(),
                   .storage_url = "s3://127.0.0.1:" + std::to_string(s3_port) + "?tls=off&part_size_mb=5",
                   .targets = {"busy=" + xvnc.vnc_url()},
                   .env = {{"VNCGATE_S3_ACCESS_KEY", "S3RVER"}, {"VNCGATE_S3_SECRET_KEY", "S3RVER"}}});
  serve.start();
  auto created =
      serve.json("POST", "/record", R"({"server": "busy", "duration": 8, "count": 1, "lossless": true})", 202);
  auto job = serve.wait_state(created.at("job_id"), "done", std::chrono::seconds(90));
  ASSERT_EQ(job.at("segments").size(), 1u);
  const auto bytes = job.at("segments")[0].at("bytes").get<std::int64_t>();
  ASSERT_GT(bytes, 12 << 20) << "a busy lossless segment; the test needs several parts";

  const auto log = read_file(dir.path() + "/serve-1.log");
  const auto streamed = log.find("stored while recording");
  const auto finished = log.find("segment 1/1 done");
  ASSERT_NE(streamed, std::string::npos) << log;
  EXPECT_LT(streamed, finished) << "parts went up before the segment was complete\n" << log;
  EXPECT_NE(log.find("parts)"), std::string::npos) << log;

  auto seen = read_with_minio(dir.path(), s3_port, created.at("bucket_id"));
  EXPECT_EQ(seen["segment-001.mp4"], job.at("segments")[0].at("sha256"));
  spew.stop();
}

}  // namespace
}  // namespace vncgate::test
