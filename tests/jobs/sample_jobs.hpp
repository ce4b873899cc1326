// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>

#include "jobs/job.hpp"

namespace vncgate::jobs::test {

// A job as POST /record would create it for `server`.
inline NewJob sample_job(const std::string& server = "demo", int count = 3) {
  NewJob job;
  job.bucket_id = "bucket-" + server;
  job.server = server;
  job.target = "vnc://127.0.0.1:5901";
  job.provider = "direct";
  job.duration_s = 60;
  job.count = count;
  job.encoder_options = {{"width", 1024}, {"height", 768}, {"fps", 10}, {"fbs", true}, {"lossless", false}};
  return job;
}

// What the recorder reports for segment `index` (1-based) of a job.
inline FinishedSegment sample_result(int index) {
  FinishedSegment result;
  result.local_path = "/var/lib/vncgate/rec/segment-" + std::to_string(index) + ".mp4";
  result.bytes = 1000 * index;
  result.duration_ms = 60000;
  result.frames = 600;
  result.sha256 = std::string(64, 'a');
  result.start_unix_ms = 1'700'000'000'000 + 60000LL * (index - 1);
  result.end_unix_ms = result.start_unix_ms + 60000;
  return result;
}

}  // namespace vncgate::jobs::test
