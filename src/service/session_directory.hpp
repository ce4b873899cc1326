// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "gateway/session_manager.hpp"

namespace vncgate::service {

// A redeemed one-time link: the session, the view-only flag, and where the session runs.
struct Redemption {
  std::string session_id;
  bool view_only = false;
  std::string owner_url;  // the owning node's cluster.advertise_url; "" = this process
};

// Where the REST API finds live console sessions and their one-time links: this process's SessionManager alone
// (LocalSessionDirectory), or a cluster sharing them through PostgreSQL (ClusterSessions). Every method may block
// (a database): call from the blocking pool, never from an io thread. Sessions are JSON objects as the API shows
// them (session_json).
class SessionDirectory {
 public:
  virtual ~SessionDirectory() = default;
  // Reuses the live session of the target key (wherever it runs) or starts one here; a fresh link. Throws as
  // SessionManager::create_link.
  virtual gateway::Link create_link(const std::string& target, bool view_only, std::optional<std::chrono::seconds> ttl,
                                    bool record, const std::string& client) = 0;
  // A link to an existing session; nullopt when there is none.
  virtual std::optional<gateway::Link> create_link_for(const std::string& session_id, bool view_only,
                                                       std::optional<std::chrono::seconds> ttl) = 0;
  // Burns the token; nullopt when unknown, used or expired.
  virtual std::optional<Redemption> redeem(const std::string& token) = 0;
  virtual std::vector<nlohmann::json> list() = 0;
  virtual std::optional<nlohmann::json> get(const std::string& session_id) = 0;
  virtual bool close(const std::string& session_id) = 0;
  virtual int close_all() = 0;
};

// The API's view of a session.
nlohmann::json session_json(const gateway::SessionInfo& s);

// One process: the SessionManager's sessions and its in-memory links (the behaviour without a cluster).
class LocalSessionDirectory final : public SessionDirectory {
 public:
  explicit LocalSessionDirectory(gateway::SessionManager& manager) : manager_(manager) {}
  gateway::Link create_link(const std::string& target, bool view_only, std::optional<std::chrono::seconds> ttl,
                            bool record, const std::string& client) override;
  std::optional<gateway::Link> create_link_for(const std::string& session_id, bool view_only,
                                               std::optional<std::chrono::seconds> ttl) override;
  std::optional<Redemption> redeem(const std::string& token) override;
  std::vector<nlohmann::json> list() override;
  std::optional<nlohmann::json> get(const std::string& session_id) override;
  bool close(const std::string& session_id) override { return manager_.close(session_id); }
  int close_all() override { return manager_.close_all(); }

 private:
  gateway::SessionManager& manager_;
};

}  // namespace vncgate::service
