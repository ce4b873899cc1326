// SPDX-License-Identifier: Apache-2.0
// What the fleet tests share: `vncgate serve` processes of one fleet (a role, a worker id, short leases) on one
// PostgreSQL, and reading back what a job left in the store and in storage.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "service_fixture.hpp"
#include "support/postgres.hpp"
#include "support/xvnc.hpp"

namespace vncgate::test {

// --role ROLE, the job database, the worker id and the lease timing of one fleet member.
inline std::vector<std::string> fleet_args(const std::string& db_url, const std::string& role, const std::string& id,
                                           int lease_s, int heartbeat_s) {
  return {"--role", role,
          "--set",  "jobs.url=" + db_url,
          "--set",  "jobs.worker_id=" + id,
          "--set",  "jobs.lease_s=" + std::to_string(lease_s),
          "--set",  "jobs.heartbeat_s=" + std::to_string(heartbeat_s),
          "--set",  "jobs.upload_retry_s=1"};
}

// The database name of a PostgresServer::create_database() URL.
inline std::string database_of(const std::string& url) { return url.substr(url.rfind('/') + 1); }

// A fleet on one console: a PostgreSQL database, an Xvnc served as target "demo", one storage directory, and
// the options of each node (its own data directory, the shared database, storage and lease timing).
struct OneConsoleFleet {
  OneConsoleFleet(const std::string& name, XvncOptions screen, int lease_s, int heartbeat_s)
      : db(postgres.create_database()),
        database(database_of(db)),
        console(screen),
        dir(name),
        storage("file://" + dir.file("recordings")),
        lease_s(lease_s),
        heartbeat_s(heartbeat_s) {}

  ServeOptions node(const std::string& name, const std::string& role) {
    std::filesystem::create_directories(dir.file(name));
    return ServeOptions{.data_dir = dir.file(name),
                        .storage_url = storage,
                        .targets = {"demo=" + console.vnc_url()},
                        .extra_args = fleet_args(db, role, name, lease_s, heartbeat_s)};
  }

  PostgresServer postgres;
  const std::string db;        // its URL
  const std::string database;  // its name (for psql)
  XvncServer console;
  TempDir dir;
  const std::string storage;
  const int lease_s, heartbeat_s;
};

// Lines of a serve log that contain `needle`.
inline int count_lines(const std::string& log_file, const std::string& needle) {
  std::ifstream in(log_file);
  int n = 0;
  for (std::string line; std::getline(in, line);) n += line.find(needle) != std::string::npos ? 1 : 0;
  return n;
}

// One stored segment row: index, state and the recorder's wall-clock start and end.
struct StoredSegment {
  int index = 0;
  std::string state;
  long long start_ms = 0, end_ms = 0;
};

inline std::vector<StoredSegment> stored_segments(PostgresServer& postgres, const std::string& database,
                                                  const std::string& job_id) {
  std::vector<StoredSegment> out;
  std::istringstream rows(postgres.psql(
      "SELECT idx, state, start_unix_ms, end_unix_ms FROM segments WHERE job_id = '" + job_id + "' ORDER BY idx",
      database));
  for (std::string line; std::getline(rows, line);) {
    StoredSegment s;
    std::istringstream fields(line);
    std::string field;
    std::getline(fields, field, '|');
    s.index = std::stoi(field);
    std::getline(fields, s.state, '|');
    std::getline(fields, field, '|');
    s.start_ms = std::stoll(field);
    std::getline(fields, field, '|');
    s.end_ms = std::stoll(field);
    out.push_back(s);
  }
  return out;
}

// Uploaded segments of a job follow each other in time: each starts where the one before ended (a frame
// period of slack each way), unless a failed one lies between them (a takeover: the gap is the time lost).
inline void expect_contiguous(const std::vector<StoredSegment>& segments, const std::string& job_id,
                              long long slack_ms = 400) {
  const StoredSegment* before = nullptr;
  for (const auto& s : segments) {
    if (s.state != "uploaded") {
      before = nullptr;
      continue;
    }
    EXPECT_GT(s.end_ms, s.start_ms) << job_id << " segment " << s.index;
    if (before) {
      EXPECT_EQ(s.index, before->index + 1) << job_id;
      EXPECT_LE(std::llabs(s.start_ms - before->end_ms), slack_ms)
          << job_id << ": segment " << s.index << " starts " << s.start_ms - before->end_ms
          << " ms after the end of segment " << before->index;
    }
    before = &s;
  }
}

// "segment-007.mp4": the name of a segment's MP4 in storage.
inline std::string segment_file(int index) {
  char name[32];
  std::snprintf(name, sizeof name, "segment-%03d.mp4", index);
  return name;
}

// The names of the objects under a job's place in a file:// storage directory.
inline std::set<std::string> stored_files(const std::string& bucket_dir) {
  std::set<std::string> names;
  if (!std::filesystem::exists(bucket_dir)) return names;
  for (const auto& entry : std::filesystem::directory_iterator(bucket_dir))
    names.insert(entry.path().filename().string());
  return names;
}

}  // namespace vncgate::test
