// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "gateway/session_manager.hpp"
#include "service/http_server.hpp"
#include "service/settings.hpp"

namespace vncgate::service {

// /api/v1/sessions (create with a one-time link, list, get, more links, close one or all) and the WebSocket
// /ws/{token} the console page opens: Origin checked first (a foreign page cannot burn a token), then the
// token redeemed, then the upgrade, then the viewer handed to its session.
// Where a recorded live session's files go in storage: "session-" + the id's bytes in hex (ids are base64url,
// which bucket names do not allow).
std::string session_bucket(const std::string& session_id);

void add_session_routes(Router& router, gateway::SessionManager& manager, const ServiceSettings& settings);

}  // namespace vncgate::service
