// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <variant>

#include "gateway/session_manager.hpp"
#include "service/cluster_ticket.hpp"
#include "service/http_server.hpp"
#include "service/job_request.hpp"
#include "service/session_directory.hpp"
#include "service/settings.hpp"

namespace vncgate::service {

// The body of POST /api/v1/sessions, checked (target not resolved yet).
struct SessionRequest {
  std::string target;
  bool view_only = false;
  std::optional<std::chrono::seconds> ttl;
  bool record = false;
};
std::variant<SessionRequest, Rejection> parse_session_request(const std::string& body);

// /api/v1/sessions (create with a one-time link, list, get, more links, close one or all) and the WebSocket
// /ws/{token} the console page opens: Origin checked by the server first (a foreign page cannot burn a token),
// then the token redeemed, then the upgrade, then the viewer handed to its session.
// Where a recorded live session's files go in storage: "session-" + the id's bytes in hex (ids are base64url,
// which bucket names do not allow).
std::string session_bucket(const std::string& session_id);

// What the session routes work with: where sessions are listed and links kept (this process, or a cluster's
// database), this process's sessions, the pool for work that blocks, and — in a cluster with other nodes — the
// tickets that authenticate viewers forwarded between nodes (nullptr: no internal endpoint, nothing forwarded).
struct SessionRoutes {
  SessionDirectory& directory;
  gateway::SessionManager& manager;
  boost::asio::any_io_executor blocking;
  ClusterTicket* tickets = nullptr;
};

// With tickets, also the internal WebSocket /internal/v1/sessions/{id}/viewer that a node forwarding a viewer
// connects to (refused without a valid ticket for that session).
void add_session_routes(Router& router, SessionRoutes routes, const ServiceSettings& settings);

}  // namespace vncgate::service
