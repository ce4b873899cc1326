// SPDX-License-Identifier: Apache-2.0
// Two `vncgate serve --role worker` processes and one `--role api` share a real PostgreSQL and one storage
// directory; a recording job runs on one worker against a real console (Xvnc). That worker is kill -9'd in the
// middle of a segment: the other takes the job over once the lease has run out and records the remaining
// segments under the next indices; nothing is uploaded twice. And a worker paused (SIGSTOP) past its lease and
// continued: it is fenced out, writes and uploads nothing more, and stops its recording.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "fleet_fixture.hpp"
#include "support/xvnc.hpp"

namespace vncgate::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int kLeaseS = 4, kHeartbeatS = 1;

// An api node and two workers on one console; the api and the first worker are started (the second is started
// by each test once the first holds the job).
class FleetFailover : public testing::Test {
 protected:
  void SetUp() override {
    api.start();
    first.start();
  }
  OneConsoleFleet fleet{"vncgate-failover", XvncOptions{.width = 640, .height = 480}, kLeaseS, kHeartbeatS};
  PostgresServer& postgres = fleet.postgres;
  const std::string& database = fleet.database;
  ServeProcess api{fleet.node("api", "api")};
  ServeProcess first{fleet.node("worker-1", "worker")};
  ServeProcess second{fleet.node("worker-2", "worker")};
};

TEST_F(FleetFailover, KillNineOfTheRecordingWorker_TheOtherTakesOverWithTheNextSegment) {
  // Only the first worker runs yet, so it gets the job.
  const auto id = api.json("POST", "/record", R"({"server": "demo", "duration": 3, "count": 4})", 202)
                      .at("job_id")
                      .get<std::string>();
  second.start();
  const auto job_sql = "FROM jobs WHERE id = '" + id + "'";
  // In the middle of segment 2, segment 1 safe in storage.
  api.wait_job(
      id,
      [](const json& j) {
        return j.at("segments").size() >= 2 && j.at("segments")[0].at("state") == "uploaded" &&
               j.at("segments")[1].at("state") == "recording";
      },
      std::chrono::seconds(60));
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  ASSERT_EQ(postgres.psql("SELECT owner " + job_sql, database), "worker-1");
  first.kill9();
  const auto killed_at = Clock::now();

  // The next segment starts on the second worker.
  api.wait_job(
      id, [](const json& j) { return j.at("segments").size() >= 3; }, std::chrono::seconds(60));
  const auto failover = std::chrono::duration<double>(Clock::now() - killed_at).count();
  auto job = api.wait_state(id, "done", std::chrono::seconds(90));
  EXPECT_EQ(postgres.psql("SELECT owner || ' ' || fence_token " + job_sql, database), "worker-2 2");

  std::vector<int> uploaded, failed;
  for (const auto& s : job.at("segments")) {
    (s.at("state") == "uploaded" ? uploaded : failed).push_back(s.at("index").get<int>());
    if (s.at("state") == "uploaded") {
      EXPECT_EQ(s.at("upload_attempts"), 1) << "uploaded once: " << job.dump(1);
    }
  }
  EXPECT_EQ(uploaded, (std::vector<int>{1, 3, 4, 5})) << job.dump(1);
  EXPECT_EQ(failed, (std::vector<int>{2})) << "the segment the kill cut short";
  EXPECT_NE(job.at("segments")[1].at("error").get<std::string>().find("lease of worker worker-1 expired"),
            std::string::npos)
      << job.dump(1);
  const auto bucket = fleet.dir.file("recordings/" + job.at("bucket_id").get<std::string>());
  for (const char* file : {"segment-001.mp4", "segment-003.mp4", "segment-004.mp4", "segment-005.mp4"})
    EXPECT_TRUE(fs::exists(bucket + "/" + file)) << file;
  // Lease plus one heartbeat of the idle worker plus connecting: the goal is lease + 2 s.
  std::cout << "[fleet] failover: " << failover << " s from kill -9 to the next segment on the other worker (lease "
            << kLeaseS << " s)\n";
  EXPECT_LT(failover, kLeaseS + kHeartbeatS + 3.0);
  // SIGTERM: the surviving worker drains (nothing open) and both exit cleanly.
  EXPECT_EQ(second.stop(), 0);
  EXPECT_EQ(api.stop(), 0);
}

// SIGSTOP past the lease: the paused worker neither heartbeats nor writes; the other takes the job over. Once
// continued (SIGCONT) its clock has jumped, so its recorder closes the open segment at once and tries to store
// and upload it, its heartbeat tries to renew, and its run would upload its FBS file: every one of these carries
// the old fencing token and is refused. It stops recording; storage holds each segment once.
TEST_F(FleetFailover, WorkerPausedPastItsLeaseIsFencedOutWhenContinued) {
  const auto id = api.json("POST", "/record", R"({"server": "demo", "duration": 2, "count": 5, "fbs": true})", 202)
                      .at("job_id")
                      .get<std::string>();
  second.start();
  api.wait_job(
      id,
      [](const json& j) {
        return j.at("segments").size() >= 2 && j.at("segments")[0].at("state") == "uploaded" &&
               j.at("segments")[1].at("state") == "recording";
      },
      std::chrono::seconds(60));
  const auto job_sql = "FROM jobs WHERE id = '" + id + "'";
  ASSERT_EQ(postgres.psql("SELECT owner " + job_sql, database), "worker-1");

  ASSERT_EQ(::kill(first.pid(), SIGSTOP), 0);
  // The second worker takes over after the lease and records segment 3 while the first is still paused.
  api.wait_job(
      id, [](const json& j) { return j.at("segments").size() >= 3; }, std::chrono::seconds(30));
  EXPECT_EQ(postgres.psql("SELECT owner || ' ' || fence_token " + job_sql, database), "worker-2 2");
  std::this_thread::sleep_for(std::chrono::seconds(1));
  ASSERT_EQ(::kill(first.pid(), SIGCONT), 0);

  auto job = api.wait_state(id, "done", std::chrono::seconds(60));
  EXPECT_EQ(postgres.psql("SELECT owner || ' ' || fence_token " + job_sql, database), "worker-2 2");
  std::vector<int> uploaded, failed;
  for (const auto& s : job.at("segments")) {
    (s.at("state") == "uploaded" ? uploaded : failed).push_back(s.at("index").get<int>());
    if (s.at("state") == "uploaded") {
      EXPECT_EQ(s.at("upload_attempts"), 1) << job.dump(1);
    }
  }
  EXPECT_EQ(uploaded, (std::vector<int>{1, 3, 4, 5, 6})) << job.dump(1);
  ASSERT_EQ(failed, (std::vector<int>{2})) << job.dump(1);
  // Segment 2 stays as the takeover left it: the paused worker's late "finished" was refused.
  EXPECT_NE(job.at("segments")[1].at("error").get<std::string>().find("lease of worker worker-1 expired"),
            std::string::npos)
      << job.dump(1);
  expect_contiguous(stored_segments(postgres, database, id), id);

  // The fenced worker stops: no recording left, the loss counted, and it answers health checks still.
  const auto metrics_deadline = Clock::now() + std::chrono::seconds(10);
  std::string metrics;
  while (Clock::now() < metrics_deadline) {
    metrics = first.request("GET", "/metrics").body;
    if (metrics.find("vncgate_active_recordings 0") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_NE(metrics.find("vncgate_active_recordings 0"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("vncgate_jobs_lost_total 1"), std::string::npos) << metrics;
  // It uploaded segment 1 before the pause and nothing after it: not its late segment 2, not its FBS file.
  for (int index = 1; index <= 6; ++index) {
    const auto stored = "upload: job " + id + " segment " + std::to_string(index) + " →";
    EXPECT_EQ(count_lines(first.log_file(), stored), index == 1 ? 1 : 0) << stored << "\n" << first.log_tail();
  }
  EXPECT_GE(count_lines(first.log_file(), "lost to another worker"), 1) << first.log_tail();
  const auto bucket = fleet.dir.file("recordings/" + job.at("bucket_id").get<std::string>());
  const auto files = stored_files(bucket);
  for (const char* mp4 :
       {"segment-001.mp4", "segment-003.mp4", "segment-004.mp4", "segment-005.mp4", "segment-006.mp4"})
    EXPECT_TRUE(files.count(mp4)) << mp4;
  EXPECT_FALSE(files.count("segment-002.mp4"));
  EXPECT_FALSE(files.count("recording.fbs")) << "the fenced worker's FBS file was uploaded";
  EXPECT_TRUE(files.count("recording-from-003.fbs")) << "the new owner's FBS file";
  EXPECT_EQ(second.stop(), 0);
  EXPECT_EQ(first.stop(), 0);
  EXPECT_EQ(api.stop(), 0);
}

}  // namespace
}  // namespace vncgate::test
