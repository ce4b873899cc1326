// SPDX-License-Identifier: Apache-2.0
// A fleet at work on real consoles (Xvnc): PostgreSQL restarted under running `vncgate serve` processes, and
// three nodes sharing PostgreSQL and s3rver through 30 jobs. What must hold: every job ends done, every segment
// is stored exactly once, a job's segments follow each other in time.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <thread>

#include "fleet_fixture.hpp"
#include "support/s3rver.hpp"
#include "support/xvnc.hpp"

namespace vncgate::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

// Segments stored, per "JOB segment N", over the logs of every node: an upload is logged once when it is done.
std::map<std::string, int> uploads_logged(const std::vector<const ServeProcess*>& nodes) {
  std::map<std::string, int> seen;
  for (const auto* node : nodes) {
    std::ifstream in(node->log_file());
    for (std::string line; std::getline(in, line);) {
      const auto at = line.find("upload: job ");
      const auto arrow = line.find(" →");
      if (at == std::string::npos || arrow == std::string::npos || arrow < at) continue;
      ++seen[line.substr(at + 12, arrow - at - 12)];
    }
  }
  return seen;
}

// Every segment of a done job uploaded, none failed, each logged as uploaded exactly once, in time order.
void expect_complete(PostgresServer& postgres, const std::string& database, const json& job, int count,
                     const std::map<std::string, int>& uploads) {
  const std::string id = job.at("job_id");
  EXPECT_EQ(job.at("state"), "done") << job.dump(1);
  const auto segments = stored_segments(postgres, database, id);
  ASSERT_EQ(segments.size(), static_cast<std::size_t>(count)) << job.dump(1);
  for (int i = 0; i < count; ++i) {
    EXPECT_EQ(segments[i].index, i + 1) << id;
    EXPECT_EQ(segments[i].state, "uploaded") << id;
    const auto key = id + " segment " + std::to_string(i + 1);
    EXPECT_EQ(uploads.count(key) ? uploads.at(key) : 0, 1) << key << " uploads";
  }
  expect_contiguous(segments, id);
}

TEST(Fleet, PostgresRestartedUnderRunningNodes_JobsContinueAndTheApiAnswers503MeanWhile) {
  constexpr int kLease = 8, kJobs = 3, kCount = 5;
  OneConsoleFleet fleet("vncgate-fleet-pg", XvncOptions{.width = 320, .height = 240}, kLease, 1);
  auto& postgres = fleet.postgres;
  const auto& database = fleet.database;
  ServeProcess api(fleet.node("api", "api")), first(fleet.node("worker-1", "worker")),
      second(fleet.node("worker-2", "worker"));
  api.start();
  first.start();
  second.start();
  std::vector<std::string> ids;
  for (int i = 0; i < kJobs; ++i)
    ids.push_back(api.json("POST", "/record", R"({"server": "demo", "duration": 2, "count": 5})", 202)
                      .at("job_id")
                      .get<std::string>());
  for (const auto& id : ids)
    api.wait_job(
        id, [](const json& j) { return j.at("segments").size() >= 2; }, std::chrono::seconds(60));

  // pg_ctl restart: a fast shutdown (every session ended), down a few seconds, then up again. Segment
  // boundaries fall into the outage (2 s segments).
  postgres.stop();
  const auto down = api.request("GET", "/api/v1/recordings/" + ids[0]);
  EXPECT_EQ(down.status, 503) << down.body;
  EXPECT_NE(down.body.find("error"), std::string::npos) << down.body;
  const auto refused = api.request("POST", "/record", R"({"server": "demo", "duration": 2, "count": 1})");
  EXPECT_EQ(refused.status, 503) << refused.body;
  std::cout << "[fleet] while PostgreSQL is down: " << down.status << " " << down.body << "\n";
  std::this_thread::sleep_for(std::chrono::seconds(3));
  postgres.start();
  const auto up_deadline = Clock::now() + std::chrono::seconds(20);
  int status = 0;
  while (Clock::now() < up_deadline && (status = api.request("GET", "/api/v1/recordings/" + ids[0]).status) != 200)
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(status, 200) << "the API answers again once PostgreSQL is back";

  std::vector<json> jobs;
  for (const auto& id : ids) jobs.push_back(api.wait_state(id, "done", std::chrono::seconds(90)));
  const auto uploads = uploads_logged({&first, &second});
  for (const auto& job : jobs) {
    expect_complete(postgres, database, job, kCount, uploads);
    const auto files = stored_files(fleet.dir.file("recordings/" + job.at("bucket_id").get<std::string>()));
    for (int i = 1; i <= kCount; ++i) EXPECT_TRUE(files.count(segment_file(i))) << job.dump(1);
  }
  // Writes did fall into the outage (2 s segments, ~4 s down) and were retried, not lost.
  EXPECT_GE(
      count_lines(first.log_file(), "the job store failed") + count_lines(second.log_file(), "the job store failed"),
      1);
  // Nothing was taken over: the leases outlived the outage.
  EXPECT_EQ(postgres.psql("SELECT count(*) FROM jobs WHERE fence_token <> 1", database), "0");
  EXPECT_EQ(first.stop(), 0);
  EXPECT_EQ(second.stop(), 0);
  EXPECT_EQ(api.stop(), 0);
}

TEST(Fleet, ThreeNodesSharePostgresAndS3_ThirtyJobsOnRealConsoles) {
  constexpr int kJobs = 30, kCount = 2, kConsoles = 3;
  PostgresServer postgres;
  const auto db = postgres.create_database();
  const auto database = database_of(db);
  std::vector<std::unique_ptr<XvncServer>> consoles;
  std::vector<std::string> targets;
  for (int i = 0; i < kConsoles; ++i) {
    consoles.push_back(std::make_unique<XvncServer>(XvncOptions{.width = 320, .height = 240}));
    targets.push_back("console-" + std::to_string(i) + "=" + consoles.back()->vnc_url());
  }
  TempDir dir("vncgate-fleet-3");
  S3rver s3(dir.file("s3"), dir.file("s3rver.log"));
  std::vector<std::unique_ptr<ServeProcess>> nodes;
  for (int i = 1; i <= 3; ++i) {
    const auto name = "node-" + std::to_string(i);
    fs::create_directories(dir.file(name));
    auto args = fleet_args(db, "all", name, 6, 1);
    // Serving nodes of one database form a cluster (console links are forwarded between them): each says where
    // the others reach it, and they share a secret.
    const int port = free_port();
    args.insert(args.end(), {"--set", "jobs.max_concurrent=5", "--set",
                             "cluster.advertise_url=http://127.0.0.1:" + std::to_string(port), "--set",
                             "cluster.secret=fleet-test-cluster-secret-0123456789abcdef"});
    nodes.push_back(std::make_unique<ServeProcess>(
        ServeOptions{.data_dir = dir.file(name),
                     .storage_url = "s3://127.0.0.1:" + std::to_string(s3.port()) + "?tls=off",
                     .targets = targets,
                     .extra_args = args,
                     .env = {{"VNCGATE_S3_ACCESS_KEY", "S3RVER"}, {"VNCGATE_S3_SECRET_KEY", "S3RVER"}},
                     .port = port}));
    nodes.back()->start();
  }
  // Submitted round-robin through the three APIs, over the three consoles.
  std::vector<std::string> ids;
  for (int i = 0; i < kJobs; ++i) {
    const json body = {{"server", "console-" + std::to_string(i % kConsoles)}, {"duration", 2}, {"count", kCount}};
    ids.push_back(nodes[i % 3]->json("POST", "/record", body.dump(), 202).at("job_id").get<std::string>());
  }
  std::vector<json> jobs;
  for (std::size_t i = 0; i < ids.size(); ++i)  // any node answers for any job
    jobs.push_back(nodes[(i + 1) % 3]->wait_state(ids[i], "done", std::chrono::seconds(240)));

  const auto uploads = uploads_logged({nodes[0].get(), nodes[1].get(), nodes[2].get()});
  for (const auto& job : jobs) {
    expect_complete(postgres, database, job, kCount, uploads);
    // Read back by an independent S3 client: the objects are the recorded segments, nothing else.
    auto seen = read_with_minio(dir.path(), s3.port(), job.at("bucket_id").get<std::string>());
    for (const auto& s : job.at("segments"))
      EXPECT_EQ(seen[segment_file(s.at("index").get<int>())], s.at("sha256")) << job.dump(1);
    int mp4s = 0;
    for (const auto& [key, sha] : seen) mp4s += key.ends_with(".mp4") ? 1 : 0;
    EXPECT_EQ(mp4s, kCount) << job.dump(1);
  }
  // Work spread over the fleet; nothing changed hands.
  const auto spread =
      postgres.psql("SELECT owner || ':' || count(*) FROM jobs GROUP BY owner ORDER BY owner", database);
  std::cout << "[fleet] jobs per node: " << spread << "\n";
  for (const char* node : {"node-1:", "node-2:", "node-3:"}) EXPECT_NE(spread.find(node), std::string::npos) << spread;
  EXPECT_EQ(postgres.psql("SELECT count(*) FROM jobs WHERE fence_token <> 1", database), "0");
  for (auto& node : nodes) EXPECT_EQ(node->stop(), 0);
}

}  // namespace
}  // namespace vncgate::test
