// SPDX-License-Identifier: Apache-2.0
// What `vncgate serve` needs to know, independent of where it came from (config file, env, flags: the CLI maps
// config::ServiceConfig onto these).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "record/encoder_settings.hpp"
#include "service/http_server.hpp"

namespace vncgate::service {

// Encoding for jobs that do not say.
struct RecordingDefaults {
  int width = 0, height = 0;  // 0 = the console's own size
  double fps = 10;
  int quality = 16;  // x264 CRF (see record::EncoderSettings::crf)
  std::string preset = "veryfast";
  record::Chroma chroma = record::Chroma::yuv444;
  bool fbs = false;
  int reconnect_timeout_s = 60;  // a console lost while recording (or by a restart) is retried this long
  int connect_grace_s = 10;      // a new job waits this long for a console that is not reachable yet
};

struct JobSettings {
  int max_concurrent = 4;  // recordings at once; later jobs wait queued
  std::string work_dir = "vncgate-data/work";
  std::int64_t max_duration_s = 86400;    // per segment
  int max_count = 1000;                   // segments per job
  std::int64_t max_total_s = 7 * 86400;   // duration × count of one job
  int max_queued = 1000;                  // jobs waiting for a recording slot; more get 429
  int max_queued_per_key = 250;           // of those, asked for with one API key
  std::chrono::seconds upload_retry{30};  // a failed upload is tried again after this
  bool keep_local = false;                // keep segment files on disk after they were uploaded
  // Leases in the job store (docs/jobs.md): this process's worker id ("" = the host name: stable across its
  // restarts, so a restarted service takes its jobs back at once) and how long a claim holds a job.
  std::string worker_id;
  std::chrono::milliseconds lease{20000};
  std::chrono::milliseconds heartbeat{5000};  // lease renewal; also how often idle workers look for expired leases
};

// What one `vncgate serve` process does (docs/deployment.md): everything, or one half of a fleet.
enum class ServiceRole {
  all,     // API, consoles and recording
  api,     // API and consoles; records nothing (jobs wait for workers)
  worker,  // records and uploads; its HTTP server answers /healthz, /readyz and /metrics only
};
inline const char* role_name(ServiceRole role) {
  return role == ServiceRole::api ? "api" : role == ServiceRole::worker ? "worker" : "all";
}

// How a request's `server` becomes a console target.
struct TargetSettings {
  std::map<std::string, std::string> named;    // "demo" → "vnc://127.0.0.1:5990" (may hold secrets)
  std::string default_provider = "openstack";  // for a server that is not a named target
  std::vector<std::string> allow;              // networks and hosts direct targets may reach
  bool allow_loopback = false;                 // this host's own ports (the demo's guest): opt-in
};

// Live consoles (/api/v1/sessions, /console/{token}, /ws/{token}).
struct GatewaySettings {
  std::chrono::seconds link_ttl{60};          // one-time link lifetime unless the request says
  std::chrono::seconds idle_timeout{1800};    // a session without viewers is closed after this
  std::chrono::seconds hibernate_after{10};   // an unchanging session compresses its picture; 0 = never
  std::chrono::seconds heartbeat{30};         // WebSocket viewers' heartbeat (io::WsAcceptOptions::ping_interval)
  bool audit_keys = false;                    // keystrokes in the input audit log of recorded sessions
  int max_sessions = 256;                     // live sessions at once (429 beyond)
  int max_sessions_per_key = 64;              // of those, started by one API key (429 beyond)
  int connect_attempts = 12;                  // a session whose console never answered gives up after these
  long long max_picture_pixels = 16LL << 20;  // larger console screens are refused
  std::uint64_t picture_memory = 2ULL << 30;  // all live sessions' pictures together
  std::string public_url;                     // base of console URLs in answers; "" = relative URLs
};

// Console sessions across the serving nodes of one PostgreSQL (service/cluster_sessions.hpp).
struct ClusterSettings {
  std::string advertise_url;  // how the other nodes reach this one; "" = a single serving node
  std::string secret;         // authenticates viewers forwarded between nodes; never logged
  std::string node_id;        // "" = jobs.worker_id, else the host name with a random suffix
  std::chrono::seconds node_timeout{15};
};

struct ServiceSettings {
  ServerOptions http;
  ServiceRole role = ServiceRole::all;
  // The job store: a SQLite file (config turns sqlite:PATH into PATH) or a postgresql:// URL.
  std::string database = "vncgate-data/vncgate.db";
  std::string storage_url = "file://vncgate-data/recordings";
  JobSettings jobs;
  RecordingDefaults recording;
  TargetSettings targets;
  GatewaySettings gateway;
  ClusterSettings cluster;
  std::string web_root;      // dashboard and console pages; "" = the built-in default
  std::string novnc_dir;     // noVNC (core/, vendor/) served under /novnc/, e.g. Debian's /usr/share/novnc
  int io_threads = 2;        // network threads: HTTP connections, console viewers and upstreams
  int blocking_threads = 8;  // threads for work that blocks: HTTP handlers, downloads (database, storage, files)
};

}  // namespace vncgate::service
