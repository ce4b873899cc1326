// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "jobs/work_signal.hpp"
#include "service/session_directory.hpp"

namespace vncgate::jobs::postgres {
class ConnectionPool;
class Listener;
}  // namespace vncgate::jobs::postgres

namespace vncgate::service {

struct ClusterOptions {
  std::string database_url;   // postgresql://… (jobs.database)
  std::string node_id;        // unique per live process
  std::string advertise_url;  // cluster.advertise_url: how the other nodes reach this one; "" = a single node
  std::chrono::milliseconds node_timeout{15000};  // a node silent this long is dead: its sessions end
};

// Console sessions shared by the serving nodes (roles all and api) of one PostgreSQL (docs/architecture.md,
// "Console sessions across nodes"): the sessions, their owners and the SHA-256 digests of one-time links live in
// the tables of migration 5; the upstream, the viewers and any recording of a session stay in its owner's
// SessionManager. A link redeemed on another node is forwarded there (the caller relays the viewer to the
// owner's advertise_url with a ClusterTicket). A heartbeat thread keeps this node's row alive, removes silent
// nodes (their sessions with them), publishes its sessions' figures, drops rows of sessions that ended here and
// closes sessions whose rows were deleted elsewhere (DELETE through another node, which also NOTIFYs for speed).
// Every method blocks on the database: call it from the blocking pool.
class ClusterSessions final : public SessionDirectory {
 public:
  // Connects (the job store has applied the migrations before).
  ClusterSessions(gateway::SessionManager& manager, ClusterOptions options);
  ~ClusterSessions() override;  // stop()
  ClusterSessions(const ClusterSessions&) = delete;
  ClusterSessions& operator=(const ClusterSessions&) = delete;

  // Registers this node and starts the heartbeat. Throws ConfigError when another live node shares the database
  // and either of the two has no advertise_url (viewers could not be forwarded between them).
  void start();
  // Stops the heartbeat and removes this node with its sessions from the database (the sessions themselves are
  // closed by SessionManager::shutdown). Idempotent.
  void stop();
  const std::string& node_id() const { return options_.node_id; }

  gateway::Link create_link(const std::string& target, bool view_only, std::optional<std::chrono::seconds> ttl,
                            bool record, const std::string& client) override;
  std::optional<gateway::Link> create_link_for(const std::string& session_id, bool view_only,
                                               std::optional<std::chrono::seconds> ttl) override;
  std::optional<Redemption> redeem(const std::string& token) override;
  std::vector<nlohmann::json> list() override;
  std::optional<nlohmann::json> get(const std::string& session_id) override;
  bool close(const std::string& session_id) override;
  int close_all() override;

  // One heartbeat now (tests; the thread runs one every node_timeout / 4 and on every notification).
  void beat();

 private:
  std::vector<nlohmann::json> rows(const char* name, const char* sql, const std::string& session_id);
  std::optional<gateway::Link> insert_link(const std::string& session_id, bool view_only,
                                           std::optional<std::chrono::seconds> ttl);
  void run_heartbeat();

  gateway::SessionManager& manager_;
  ClusterOptions options_;
  std::unique_ptr<jobs::postgres::ConnectionPool> pool_;
  jobs::WorkSignal wake_;  // NOTIFY on the sessions channel: another node closed sessions
  std::unique_ptr<jobs::postgres::Listener> listener_;
  std::mutex mutex_;
  std::set<std::string> opening_;  // sessions started here whose rows are not written yet (the heartbeat spares them)
  std::atomic<bool> stopping_{false};
  bool started_ = false;
  std::thread heartbeat_;
};

}  // namespace vncgate::service
