// SPDX-License-Identifier: Apache-2.0
// What API clients may point the gateway at, attacked on a live `vncgate serve`: the gateway host's own ports
// (banner grabs), a cloud metadata address as a session target (answered 201 and retried until idle expiry),
// credentials in target URLs (stored in clear and echoed), numbers outside the documented ranges (fps 1e-300
// made the pacing loop spin), and the modes of the files the service creates.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <thread>

#include "service_fixture.hpp"

namespace vncgate::test {
namespace {

using nlohmann::json;

class TargetPolicyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("vncgate-security-targets");
    // The safe defaults: loopback direct targets are not allowed.
    serve_ = new ServeProcess(ServeOptions{.data_dir = dir_->path(),
                                           .targets = {"demo=vnc://192.0.2.1:5900"},
                                           .extra_args = {"--set", "providers.allow=192.0.2.0/24"},
                                           .allow_loopback = false});
    serve_->start();
  }
  static void TearDownTestSuite() {
    delete serve_;
    delete dir_;
  }
  static std::pair<int, std::string> post(const std::string& path, const std::string& body) {
    auto r = serve_->request("POST", path, body);
    auto parsed = json::parse(r.body, nullptr, false);
    return {r.status, parsed.is_discarded() ? r.body : parsed["error"].value("code", "")};
  }
  static std::string job(const std::string& server, const std::string& extra = "") {
    return R"({"server":")" + server + R"(","provider":"direct","duration":5,"count":1)" + extra + "}";
  }

  static inline TempDir* dir_ = nullptr;
  static inline ServeProcess* serve_ = nullptr;
};

TEST_F(TargetPolicyTest, TheGatewayHostsOwnPortsAreNotTargets) {
  for (const std::string target :
       {"vnc://127.0.0.1:22", "vnc://localhost:22", "vnc://[::1]:22", "vnc://127.1.2.3:80", "vnc://0.0.0.0:22"}) {
    EXPECT_EQ(post("/api/v1/sessions", R"({"target":")" + target + R"("})"),
              std::pair(403, std::string("target_not_allowed")))
        << target;
    EXPECT_EQ(post("/record", job(target)), std::pair(403, std::string("target_not_allowed"))) << target;
  }
  EXPECT_TRUE(serve_->json("GET", "/api/v1/sessions").at("sessions").empty());
  EXPECT_TRUE(serve_->json("GET", "/api/v1/recordings").at("recordings").empty());
}

TEST_F(TargetPolicyTest, ForbiddenSessionTargetsAreRefusedBeforeAnswering) {
  const std::string body = R"({"target":"vnc://169.254.169.254:80"})";
  for (int i = 0; i < 50; ++i) ASSERT_EQ(post("/api/v1/sessions", body).first, 403);
  EXPECT_TRUE(serve_->json("GET", "/api/v1/sessions").at("sessions").empty()) << "no session retries it";
  EXPECT_EQ(post("/api/v1/sessions", R"({"target":"vnc://metadata.invalid:80"})").first, 403)
      << "a name that does not resolve to an allowed network";
}

TEST_F(TargetPolicyTest, CredentialsInTargetUrlsAreRefusedNeverStored) {
  for (const std::string target : {"vnc://:hunter2secret@192.0.2.7:5900", "vnc://admin:hunter2secret@192.0.2.7:5900",
                                   "ws://192.0.2.7:6080/websockify?token=hunter2secret"}) {
    EXPECT_EQ(post("/record", job(target)), std::pair(400, std::string("credentials_in_target"))) << target;
    EXPECT_EQ(post("/api/v1/sessions", R"({"target":")" + target + R"("})"),
              std::pair(400, std::string("credentials_in_target")))
        << target;
  }
  EXPECT_EQ(serve_->request("GET", "/api/v1/recordings").body.find("hunter2"), std::string::npos);
  EXPECT_EQ(read_file(dir_->file("vncgate.db")).find("hunter2"), std::string::npos) << "not in the database";
}

TEST_F(TargetPolicyTest, NumbersOutsideTheDocumentedRangesAreRefused) {
  for (const std::string extra :
       {R"(,"fps":1e-300)", R"(,"fps":0.5)", R"(,"fps":2.5)", R"(,"fps":61)", R"(,"fps":"10")",
        R"(,"width":1e9,"height":64)", R"(,"width":65536,"height":65536)", R"(,"quality":-1)", R"(,"quality":1e300)"}) {
    EXPECT_EQ(post("/record", job("demo", extra)).first, 400) << extra;
  }
  EXPECT_EQ(post("/record", R"({"server":"demo","duration":1e300,"count":1})").first, 400);
  EXPECT_EQ(post("/record", R"({"server":"demo","duration":1,"count":-1})").first, 400);
  EXPECT_EQ(post("/api/v1/sessions", R"({"target":"demo","ttl":1e12})").first, 400);
  EXPECT_EQ(post("/api/v1/sessions", R"({"target":"demo","ttl":0.5})").first, 400);
  EXPECT_TRUE(serve_->json("GET", "/api/v1/recordings").at("recordings").empty());
}

TEST_F(TargetPolicyTest, DatabaseAndDataFilesAreTheServicesAlone) {
  struct stat st {};
  ASSERT_EQ(::stat(dir_->file("vncgate.db").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 077, 0u) << std::oct << (st.st_mode & 0777) << " on the database";
  ASSERT_EQ(::stat(dir_->file("work").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 077, 0u) << std::oct << (st.st_mode & 0777) << " on the work directory";
}

// 3 000 sessions to unreachable targets in 1.3 s, each retrying every 5 s until idle expiry: now capped in number
// and in attempts.
TEST(SessionLimits, SessionsAreCappedAndGiveUpOnConsolesThatNeverAnswer) {
  TempDir dir("vncgate-security-sessions");
  ServeProcess serve(
      ServeOptions{.data_dir = dir.path(),
                   .extra_args = {"--set", "gateway.max_sessions=5", "--set", "gateway.connect_attempts=2"}});
  serve.start();
  // Consoles that accept (in the kernel's backlog) and never speak: their sessions stay up, connecting.
  boost::asio::io_context io;
  std::vector<boost::asio::ip::tcp::acceptor> silent;
  for (int i = 0; i < 8; ++i)
    silent.emplace_back(io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  std::vector<int> statuses;
  for (auto& console : silent) {
    auto r =
        serve.request("POST", "/api/v1/sessions",
                      R"({"target":"vnc://127.0.0.1:)" + std::to_string(console.local_endpoint().port()) + R"("})");
    statuses.push_back(r.status);
    if (r.status == 429) {
      EXPECT_NE(r.body.find("gateway.max_sessions"), std::string::npos) << r.body;
    }
  }
  EXPECT_EQ(statuses, (std::vector<int>{201, 201, 201, 201, 201, 429, 429, 429}));
  EXPECT_EQ(serve.json("DELETE", "/api/v1/sessions").at("closed"), 5);

  // A console that refuses: the session gives up after two attempts instead of retrying until idle expiry.
  const auto created = serve.json("POST", "/api/v1/sessions",
                                  R"({"target":"vnc://127.0.0.1:)" + std::to_string(free_port()) + R"("})", 201);
  const std::string id = created.at("session_id");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  int status = 200;
  while (std::chrono::steady_clock::now() < deadline && status == 200) {
    auto r = serve.request("GET", "/api/v1/sessions/" + id);
    status = r.status == 200 && nlohmann::json::parse(r.body).value("state", "") == "closed" ? 404 : r.status;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(status, 404) << "the session ended\n" << serve.log_tail();
}

// One API key cannot take every session of the gateway: each key has its own share (gateway.max_sessions_per_key).
TEST(SessionLimits, EachApiKeyHasItsOwnShare) {
  TempDir dir("vncgate-security-keys-share");
  ServeProcess serve(ServeOptions{.data_dir = dir.path(),
                                  .extra_args = {"--set", "server.api_keys=first-key-0123,second-key-4567", "--set",
                                                 "gateway.max_sessions_per_key=2"},
                                  .allow_no_auth = false});
  serve.start();
  boost::asio::io_context io;
  std::vector<boost::asio::ip::tcp::acceptor> silent;
  for (int i = 0; i < 4; ++i)
    silent.emplace_back(io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  auto create = [&](const std::string& key, int console) {
    const auto port = std::to_string(silent.at(console).local_endpoint().port());
    return serve.request("POST", "/api/v1/sessions", R"({"target":"vnc://127.0.0.1:)" + port + R"("})",
                         {{"Authorization", "Bearer " + key}});
  };
  EXPECT_EQ(create("first-key-0123", 0).status, 201);
  EXPECT_EQ(create("first-key-0123", 1).status, 201);
  const auto third = create("first-key-0123", 2);
  EXPECT_EQ(third.status, 429);
  EXPECT_NE(third.body.find("gateway.max_sessions_per_key"), std::string::npos) << third.body;
  EXPECT_EQ(create("second-key-4567", 2).status, 201) << "the other key's share is untouched";
  EXPECT_EQ(create("second-key-4567", 0).status, 201) << "a live session of the same target is shared";
}

// 2 000 jobs of 86 400 s × 1 000 segments were accepted in 1.1 s: the queue and a job's length are capped.
TEST(Quotas, QueuedJobsAndJobLengthAreCapped) {
  boost::asio::io_context io;  // a console that accepts and never speaks: the one recording stays connecting
  boost::asio::ip::tcp::acceptor silent(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  TempDir dir("vncgate-security-quotas");
  ServeProcess serve(ServeOptions{.data_dir = dir.path(),
                                  .targets = {"far=vnc://127.0.0.1:" + std::to_string(silent.local_endpoint().port())},
                                  .extra_args = {"--max-jobs", "1", "--set", "jobs.max_queued=3"}});
  serve.start();
  auto too_long = serve.request("POST", "/record", R"({"server":"far","duration":86400,"count":1000})");
  EXPECT_EQ(too_long.status, 400);
  EXPECT_NE(too_long.body.find("job_too_long"), std::string::npos) << too_long.body;
  int accepted = 0, refused = 0;
  for (int i = 0; i < 20; ++i) {
    auto r = serve.request("POST", "/record", R"({"server":"far","duration":60,"count":2})");
    accepted += r.status == 202;
    if (r.status == 429) {
      ++refused;
      EXPECT_NE(r.body.find("jobs.max_queued"), std::string::npos) << r.body;
    }
  }
  EXPECT_LE(accepted, 1 + 3 + 1) << "one recording, three waiting (one more if the first ended meanwhile)";
  EXPECT_GE(refused, 15);
}

TEST(Quotas, EachApiKeyHasItsOwnQueue) {
  boost::asio::io_context io;  // a console that accepts and never speaks: the one recording stays connecting
  boost::asio::ip::tcp::acceptor silent(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  TempDir dir("vncgate-security-key-queue");
  ServeProcess serve(ServeOptions{.data_dir = dir.path(),
                                  .targets = {"far=vnc://127.0.0.1:" + std::to_string(silent.local_endpoint().port())},
                                  .extra_args = {"--max-jobs", "1", "--set", "jobs.max_queued_per_key=2", "--set",
                                                 "server.api_keys=first-key-0123,second-key-4567"},
                                  .allow_no_auth = false});
  serve.start();
  auto post = [&](const std::string& key) {
    return serve.request("POST", "/record", R"({"server":"far","duration":60,"count":2})",
                         {{"Authorization", "Bearer " + key}});
  };
  int accepted = 0;
  http::Response last;
  for (int i = 0; i < 6 && (last = post("first-key-0123")).status == 202; ++i) ++accepted;
  EXPECT_EQ(last.status, 429);
  EXPECT_NE(last.body.find("jobs.max_queued_per_key"), std::string::npos) << last.body;
  EXPECT_GE(accepted, 2);
  EXPECT_LE(accepted, 3) << "two waiting, and the one recording if it was claimed meanwhile";
  EXPECT_EQ(post("second-key-4567").status, 202) << "the other key's queue is its own";
}

}  // namespace
}  // namespace vncgate::test
