// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "record/encoder_settings.hpp"
#include "record/mp4_writer.hpp"

namespace vncgate::record {

// Something that happened to the upstream during a job, on the job clock.
struct JobEvent {
  std::int64_t t_ms = 0;
  std::string kind;    // "resize", "disconnected", "reconnected"
  std::string detail;  // e.g. "800x600" or the error text
};

// Where a segment's instants are in a lossless FBS recording of the job: file time = offset_ms + segment time.
// A file opened during the segment (a reconnect) has a negative offset: it begins -offset_ms into the segment.
struct FbsPlace {
  std::string file;  // e.g. "recording.fbs"
  std::int64_t offset_ms = 0;
};

// What one segment's JSON sidecar says (written next to the MP4 as <name>.json).
struct SegmentRecord {
  std::string target;  // redacted: no tokens or passwords
  int index = 0;       // 1-based
  int count = 0;
  std::string file;                       // MP4 file name
  std::string transcript;                 // its transcript's file name (docs/text.md); empty when none
  std::int64_t start_ms = 0, end_ms = 0;  // on the job clock
  std::int64_t start_unix_ms = 0;         // wall clock of the job's t=0
  int width = 0, height = 0;              // output size
  SegmentStats stats;
  std::string sha256;
  EncoderSettings encoder;
  std::vector<JobEvent> events;  // those inside [start, end)
  std::vector<FbsPlace> fbs;     // the FBS files covering the segment, in order; empty without FBS
};

std::string to_json(const SegmentRecord& record);

// A file and an instant on its clock.
struct FbsInstant {
  std::string file;
  std::uint32_t ms = 0;
};
// The FBS file showing the segment at `segment_ms` (the last one begun by then) and its time there; nullopt
// when none was.
std::optional<FbsInstant> fbs_instant_at(const std::vector<FbsPlace>& places, std::int64_t segment_ms);
// The "fbs" list of a sidecar's JSON text; empty when it has none or the text is not a sidecar (never throws:
// the text comes from storage).
std::vector<FbsPlace> fbs_places_of(const std::string& sidecar_json);
// SHA-256 of a file as lower-case hex; throws IoError when unreadable.
std::string sha256_file(const std::string& path);
// ISO 8601 UTC with milliseconds, e.g. 2026-11-26T06:25:01.250Z.
std::string utc_iso8601(std::int64_t unix_ms);
// Writes `text` to `path` atomically (temporary file + rename), so readers never see half a sidecar.
void write_file_atomic(const std::string& path, const std::string& text);

}  // namespace vncgate::record
