// SPDX-License-Identifier: Apache-2.0
#include "service/job_request.hpp"

#include <gtest/gtest.h>

#include "service/recordings_api.hpp"

namespace vncgate::service {
namespace {

ServiceSettings settings() {
  ServiceSettings s;
  s.targets.named["demo"] = "vnc://:secret@127.0.0.1:5990";
  s.targets.named["web1"] = "openstack:6f1d9d7e-0000-4000-8000-000000000001";
  s.jobs.max_duration_s = 3600;
  s.jobs.max_count = 10;
  return s;
}

Rejection rejected(const std::string& body) {
  auto result = parse_job_request(body, settings());
  EXPECT_TRUE(std::holds_alternative<Rejection>(result)) << body;
  return std::holds_alternative<Rejection>(result) ? std::get<Rejection>(result) : Rejection{};
}

TEST(JobRequest, SeedBodyBecomesAJobWithoutSecrets) {
  auto result = parse_job_request(R"({"server": "demo", "duration": 60, "count": 3})", settings());
  ASSERT_TRUE(std::holds_alternative<jobs::NewJob>(result));
  const auto& job = std::get<jobs::NewJob>(result);
  EXPECT_EQ(job.server, "demo");
  EXPECT_EQ(job.provider, "direct");
  EXPECT_EQ(job.duration_s, 60);
  EXPECT_EQ(job.count, 3);
  EXPECT_EQ(job.target.find("secret"), std::string::npos) << job.target;
  EXPECT_TRUE(job.encoder_options.empty());
}

TEST(JobRequest, OptionalFieldsAreKept) {
  auto result = parse_job_request(
      R"({"server": "demo", "duration": 5.0, "count": 1, "width": 1280, "height": 720, "fps": 25, "quality": 23,
          "fbs": true, "lossless": false, "unknown": "ignored"})",
      settings());
  ASSERT_TRUE(std::holds_alternative<jobs::NewJob>(result));
  const auto& o = std::get<jobs::NewJob>(result).encoder_options;
  EXPECT_EQ(o.at("width"), 1280);
  EXPECT_EQ(o.at("fps"), 25);
  EXPECT_EQ(o.at("fbs"), true);
  jobs::Job job;
  job.encoder_options = o;
  const auto encoding = job_encoding(job, RecordingDefaults{});
  EXPECT_EQ(encoding.encoder.width, 1280);
  EXPECT_EQ(encoding.encoder.crf, 23);
  EXPECT_TRUE(encoding.fbs);
}

TEST(JobRequest, ChromaIsTheConfiguredDefaultUnlessTheRequestSaysSo) {
  jobs::Job job;
  RecordingDefaults defaults;
  EXPECT_EQ(job_encoding(job, defaults).encoder.chroma, record::Chroma::yuv444);
  defaults.chroma = record::Chroma::yuv420;
  EXPECT_EQ(job_encoding(job, defaults).encoder.chroma, record::Chroma::yuv420);

  auto result = parse_job_request(R"({"server": "demo", "duration": 5, "count": 1, "chroma": "444"})", settings());
  ASSERT_TRUE(std::holds_alternative<jobs::NewJob>(result));
  job.encoder_options = std::get<jobs::NewJob>(result).encoder_options;
  EXPECT_EQ(job.encoder_options.at("chroma"), "444");
  EXPECT_EQ(job_encoding(job, defaults).encoder.chroma, record::Chroma::yuv444);
  for (const char* bad : {R"("422")", "420", "true", R"("")"}) {
    const auto rejection =
        rejected(std::string(R"({"server": "demo", "duration": 5, "count": 1, "chroma": )") + bad + "}");
    EXPECT_EQ(rejection.code, "invalid_field") << bad;
    EXPECT_NE(rejection.message.find("chroma"), std::string::npos) << rejection.message;
  }
}

TEST(JobRequest, BadBodiesAreRejectedWithCodes) {
  EXPECT_EQ(rejected("").code, "malformed_json");
  EXPECT_EQ(rejected("\"text\"").code, "invalid_body");
  EXPECT_EQ(rejected(R"({"duration": 1, "count": 1})").code, "missing_field");
  EXPECT_EQ(rejected(R"({"server": "", "duration": 1, "count": 1})").code, "invalid_field");
  EXPECT_EQ(rejected(R"({"server": "demo", "duration": 3601, "count": 1})").code, "invalid_field");
  EXPECT_EQ(rejected(R"({"server": "demo", "duration": 1, "count": 11})").code, "invalid_field");
  EXPECT_EQ(rejected(R"({"server": "demo", "duration": 1, "count": true})").code, "invalid_field");
  EXPECT_EQ(rejected(R"({"server": "demo", "duration": -1e400, "count": 1})").code, "malformed_json");
  EXPECT_EQ(rejected(R"({"server": "demo", "duration": 1, "count": 1, "height": 480})").code, "invalid_field");
  EXPECT_EQ(rejected(R"({"server": "demo", "duration": 1, "count": 1, "provider": 7})").code, "invalid_field");
  // fps is a whole number 1..60 (docs/openapi.yaml): 1e-300 once made the pacing loop spin.
  for (const char* fps : {"1e-300", "0", "2.5", "61", "-5", "\"10\"", "1e308"})
    EXPECT_EQ(rejected(std::string(R"({"server": "demo", "duration": 1, "count": 1, "fps": )") + fps + "}").code,
              "invalid_field")
        << fps;
  auto unknown = rejected(R"({"server": "elsewhere", "duration": 1, "count": 1, "provider": "direct"})");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.code, "unknown_server");
}

TEST(JobRequest, TargetsResolveByNameThenProvider) {
  auto s = settings().targets;
  auto named = std::get<ResolvedTarget>(resolve_target(s, "web1", std::nullopt));
  EXPECT_EQ(named.provider, "openstack");
  EXPECT_EQ(named.target, "openstack:6f1d9d7e-0000-4000-8000-000000000001");
  auto direct_url = std::get<ResolvedTarget>(resolve_target(s, "vnc://127.0.0.1:5901", std::string("direct")));
  EXPECT_EQ(direct_url.target, "vnc://127.0.0.1:5901");
  EXPECT_EQ(std::get<Rejection>(resolve_target(s, "x", std::string("vmware"))).code, "unknown_provider");
  // The named target's secret is used to connect, never shown.
  auto demo = std::get<ResolvedTarget>(resolve_target(s, "demo", std::nullopt));
  EXPECT_NE(demo.target.find("secret"), std::string::npos);
  EXPECT_EQ(demo.label.find("secret"), std::string::npos);
}

TEST(RangeHeader, ParsesSingleRanges) {
  auto r = parse_range("bytes=0-99", 1000);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->offset, 0u);
  EXPECT_EQ(r->length, 100u);
  r = parse_range("bytes=900-", 1000);
  EXPECT_EQ(r->length, 100u);
  r = parse_range("bytes=-10", 1000);
  EXPECT_EQ(r->offset, 990u);
  r = parse_range("bytes=990-5000", 1000);
  EXPECT_EQ(r->length, 10u);
  EXPECT_EQ(parse_range("bytes=1000-", 1000)->length, 0u) << "unsatisfiable";
  EXPECT_EQ(parse_range("bytes=-0", 1000)->length, 0u);
  EXPECT_FALSE(parse_range("", 1000));
  EXPECT_FALSE(parse_range("bytes=5-2", 1000));
  EXPECT_FALSE(parse_range("bytes=0-1,5-6", 1000));
  EXPECT_FALSE(parse_range("items=0-1", 1000));
  EXPECT_FALSE(parse_range("bytes=a-b", 1000));
  EXPECT_FALSE(parse_range("bytes=99999999999999999999999-", 1000));
}

TEST(FbsFileNames, EveryNameTheRecorderGivesIsServedAndNothingElse) {
  for (const char* name : {"recording.fbs", "recording.fbs.idx", "recording.fbs.ckpt", "recording-2.fbs",
                           "recording-2.fbs.ckpt", "recording-from-003.fbs", "recording-from-003.fbs.idx",
                           "recording-from-003-2.fbs", "recording-from-003-2.fbs.ckpt", "recording-123456.fbs"})
    EXPECT_TRUE(is_fbs_file_name(name)) << name;
  for (const char* name :
       {"", "recording", "recording.fbs.tmp", "recording-.fbs", "recording-1234567.fbs", "recording-from-.fbs",
        "recording-from-3x.fbs", "recording-2-from-003.fbs", "recording-from-003-.fbs", "recording--2.fbs",
        "../recording.fbs", "recording.fbs/x", "segment-001.mp4", "recording-2.fbs.ckpt.idx", "recording-x.fbs"})
    EXPECT_FALSE(is_fbs_file_name(name)) << name;
}

TEST(Iso8601, MillisecondsInUtc) {
  EXPECT_EQ(iso8601_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(iso8601_ms(1795683600123), "2026-11-26T09:00:00.123Z");
}

}  // namespace
}  // namespace vncgate::service
