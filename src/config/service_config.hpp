// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

// The configuration of `vncgate serve`: a TOML or YAML file, VNCGATE_* environment variables and flag
// overrides, merged in that order (later wins) into one ServiceConfig. docs/configuration.md lists every key.
namespace vncgate::config {

struct ServerSection {  // [server]
  std::string bind = "127.0.0.1";
  std::uint16_t port = 8090;          // 0 = any free port (tests)
  std::vector<std::string> api_keys;  // secret; also from api_keys_file (one key per line, # comments)
  std::size_t body_limit = 1 << 20;   // bytes; accepts "1MiB", "512KiB", plain numbers
  int request_timeout_s = 30;
  int write_timeout_s = 60;
  std::string public_url;                    // e.g. "https://gw.example.com"; "" = relative console URLs
  std::vector<std::string> allowed_origins;  // browser Origin allow-list; empty = public_url + allowed hosts
  std::string tls_cert, tls_key;             // paths; both or neither
  std::string web_root;                      // static files (dashboard, noVNC); "" = built-in default
  std::string role = "all";                  // all | api (API and consoles, no recording) | worker (recording)
  std::string novnc_dir;                     // noVNC's core/ and vendor/ for /novnc/; "" = web_root/novnc

  // docs/security.md
  bool allow_no_auth = false;              // no keys: an explicit choice for a loopback demo
  std::vector<std::string> allowed_hosts;  // Host names accepted besides bind address and public_url's host
  int max_connections = 1024;              // open HTTP connections in all
  int max_connections_per_client = 256;    // … per client address (behind a proxy: the proxy's)
  bool operator==(const ServerSection&) const = default;
};

struct JobsSection {                                 // [jobs]
  std::string database = "vncgate-data/vncgate.db";  // SQLite file path ("sqlite:PATH" is accepted, prefix
                                                     // dropped) or postgresql://… (password masked when shown)
  int max_concurrent = 4;                            // recordings at once; beyond it jobs wait queued
  std::string work_dir = "vncgate-data/work";        // local segment files before/while uploading
  std::int64_t max_duration_s = 86400;               // per segment; larger requests get 400
  int max_count = 1000;                              // segments per job
  int upload_retry_s = 30;                           // how often failed uploads are retried
  bool keep_local = false;                           // keep local files after a successful upload
  std::string url;        // the job store as a URL (postgresql://…, sqlite:PATH); set, it replaces jobs.database
  std::string worker_id;  // this process in the job store ("" = the host name; unique per live process)
  int lease_s = 20;       // a claimed job is taken over by another worker this long after its last heartbeat
  int heartbeat_s = 5;    // how often a worker renews the leases of its jobs (at most half the lease)

  std::int64_t max_total_s = 7 * 86400;  // duration × count of one job
  int max_queued = 1000;                 // waiting jobs; more get 429
  int max_queued_per_key = 250;          // of those, asked for with one API key
  bool operator==(const JobsSection&) const = default;
};

struct StorageSection {  // [storage]
  std::string url = "file://vncgate-data/recordings";
  bool operator==(const StorageSection&) const = default;
};

struct RecordingSection {     // [recording] defaults for jobs that do not say
  int width = 0, height = 0;  // 0 = the console's own size; otherwise both, even, 16..8192
  double fps = 10;
  int quality = 16;  // x264 CRF, 0..51
  std::string preset = "veryfast";
  std::string chroma = "444";  // 444 (sharp coloured text) | 420 (plays in every player)
  bool fbs = false;
  int reconnect_timeout_s = 60;  // a lost console (or one a restart left) is retried this long
  int connect_grace_s = 10;      // a new job waits this long for a console that is not reachable yet
  bool operator==(const RecordingSection&) const = default;
};

struct ProvidersSection {                      // [providers]
  std::string default_provider = "openstack";  // for a `server` that is not a named target: openstack|proxmox
  std::vector<std::string> allow;              // CIDRs/hosts direct vnc:// targets may reach
  bool allow_loopback = false;                 // this host's own ports too (the `make run` demo)
  bool operator==(const ProvidersSection&) const = default;
};

struct GatewaySection {        // [gateway] (live consoles, used by a later change)
  int link_ttl_s = 60;         // one-time console link lifetime
  int idle_timeout_s = 1800;   // sessions without viewers expire after this
  int hibernate_after_s = 10;  // an unchanging session keeps its picture compressed after this; 0 = never
  int heartbeat_s = 30;        // a WebSocket viewer gets a heartbeat this often (proxies close silent ones)
  bool audit_keys = false;     // record keystrokes in the input audit log

  int max_sessions = 256;                             // live sessions at once
  int max_sessions_per_key = 64;                      // of those, started by one API key
  int connect_attempts = 12;                          // a console that never answered: give up after these
  std::int64_t max_picture_pixels = 16LL << 20;       // larger console screens are refused
  std::size_t picture_memory = std::size_t{2} << 30;  // bytes for all live sessions' pictures
  bool operator==(const GatewaySection&) const = default;
};

struct ClusterSection {       // [cluster] console sessions across the serving nodes of one PostgreSQL
  std::string advertise_url;  // http(s)://HOST:PORT the other nodes reach this one at (forwarded viewers)
  std::string secret;         // shared by all nodes (32+ characters): authenticates forwarded viewers; secret
  std::string node_id;        // this node in the database; "" = jobs.worker_id, else host name + random suffix
  int node_timeout_s = 15;    // a node silent this long is dead: its sessions end and may open elsewhere
  bool operator==(const ClusterSection&) const = default;
};

struct ServiceConfig {
  ServerSection server;
  JobsSection jobs;
  StorageSection storage;
  RecordingSection recording;
  ProvidersSection providers;
  GatewaySection gateway;
  ClusterSection cluster;
  std::map<std::string, std::string> targets;  // [targets] name = "vnc://127.0.0.1:5990" | "openstack:ID" | …
  std::string log_level = "info";              // [log] level: trace|debug|info|warn|error
  bool operator==(const ServiceConfig&) const = default;
};

// Reads one environment variable.
using GetEnv = std::function<std::optional<std::string>(const std::string&)>;
// Names every environment variable (for [targets] from VNCGATE_TARGETS_* and for rejecting unknown VNCGATE_*).
using ListEnv = std::function<std::vector<std::string>()>;

struct Sources {
  std::optional<std::string> file;  // --config PATH (.toml, .yaml/.yml; by extension)
  // VNCGATE_* variables. Unset: the process environment (getenv + environ). Tests pass their own, best with
  // use_env() which sets env_names too; without env_names neither VNCGATE_TARGETS_* nor the unknown-name
  // check can work (names cannot be listed through a GetEnv).
  GetEnv env;
  std::vector<std::pair<std::string, std::string>> overrides;  // from flags: {"server.port","9000"}, flags win
  ListEnv env_names;

  // A fixed environment instead of the process's: sets env and env_names.
  void use_env(std::map<std::string, std::string> variables);
};

// file < env < overrides. Throws vncgate::ConfigError("<key>: <reason>") for unknown keys (with a "did you
// mean" when close), wrong types, out-of-range values, unreadable files (with line:column of parse errors),
// tls_cert without tls_key, a non-loopback bind without api keys, etc.
ServiceConfig load(const Sources& sources);

enum class FileFormat { toml, yaml };
// A config file's text alone (no environment, no overrides); `name` appears in error messages. For fuzzing
// and tests; load() reads files through this.
ServiceConfig load_text(const std::string& text, FileFormat format, const std::string& name = "<config>");

// The effective config as TOML, secrets (api_keys, anything named *secret*/*password*/*token*, URL
// passwords/userinfo and query credentials inside targets and storage.url) replaced by "***".
std::string render(const ServiceConfig& config, bool mask_secrets = true);

// "vnc://user:pw@host/?password=x" -> "vnc://***@host/?password=***": for render() and for log lines.
std::string mask_url(const std::string& url);

}  // namespace vncgate::config
