// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "jobs/job_store.hpp"
#include "record/recorder.hpp"
#include "service/http_server.hpp"
#include "service/job_runner.hpp"
#include "service/settings.hpp"
#include "storage/storage.hpp"

namespace vncgate::service {

struct RecordingsApi {
  jobs::JobStore& store;
  JobRunner& runner;
  const storage::StorageSite& site;
  const ServiceSettings& settings;
  // The last storage health check: jobs are refused (503) while storage is unreachable.
  std::function<bool()> storage_ok;
};

// POST /record (the seed's call) and /api/v1/recordings: create, list, get, cancel, segment download with
// Range, sidecar, thumbnail.
void add_recording_routes(Router& router, const RecordingsApi& api);

// The API's view of a job (docs/openapi.yaml, schema Job). Segments and transitions only when `full`.
nlohmann::json job_json(const jobs::Job& job, const std::vector<jobs::Segment>& segments,
                        const std::optional<record::Progress>& progress, bool full);

// A name the recorder gives a job's FBS files (recording.fbs, recording-2.fbs, recording-from-003.fbs and
// their .idx and .ckpt sidecars): the only names GET .../files/{name} serves.
bool is_fbs_file_name(const std::string& name);

// "2026-11-26T09:00:00.123Z"
std::string iso8601_ms(std::int64_t unix_ms);

// A parsed `Range: bytes=…` header for an object of `size` bytes: nullopt = whole object; a range whose
// `length` is 0 is unsatisfiable (416). Only single ranges; anything else is served whole.
struct RangeRequest {
  std::uint64_t offset = 0, length = 0;
};
std::optional<RangeRequest> parse_range(const std::string& header, std::uint64_t size);

}  // namespace vncgate::service
