// SPDX-License-Identifier: Apache-2.0
#include "service/session_directory.hpp"

#include "service/recordings_api.hpp"
#include "service/sessions_api.hpp"
#include "util/error.hpp"

namespace vncgate::service {

using nlohmann::json;

json session_json(const gateway::SessionInfo& s) {
  json out = {{"session_id", s.id},
              {"target", s.target_label},
              {"state", gateway::to_string(s.state)},
              {"viewers", s.viewers},
              {"view_only_viewers", s.view_only_viewers},
              {"created_at", iso8601_ms(s.created_unix_ms)},
              {"last_used_at", iso8601_ms(s.last_used_unix_ms)},
              {"bytes_to_viewers", s.bytes_to_viewers},
              {"bytes_from_upstream", s.bytes_from_upstream},
              {"frames", s.frames},
              {"width", s.width},
              {"height", s.height},
              {"recording", s.recording},
              {"total_connections", s.total_connections},
              {"dropped_input_events", s.dropped_input_events},
              {"updates_encoded", s.updates_encoded},
              {"updates_shared", s.updates_shared},
              {"hibernating", s.hibernating}};
  if (s.recording) out["bucket_id"] = session_bucket(s.id);
  return out;
}

gateway::Link LocalSessionDirectory::create_link(const std::string& target, bool view_only,
                                                 std::optional<std::chrono::seconds> ttl, bool record,
                                                 const std::string& client) {
  return manager_.create_link(target, view_only, ttl, record, client);
}

std::optional<gateway::Link> LocalSessionDirectory::create_link_for(const std::string& session_id, bool view_only,
                                                                    std::optional<std::chrono::seconds> ttl) {
  try {
    return manager_.create_link_for(session_id, view_only, ttl);
  } catch (const UsageError&) {  // no such session (or closed meanwhile)
    return std::nullopt;
  }
}

std::optional<Redemption> LocalSessionDirectory::redeem(const std::string& token) {
  auto redeemed = manager_.redeem(token);
  if (!redeemed) return std::nullopt;
  return Redemption{redeemed->session_id, redeemed->view_only, {}};
}

std::vector<json> LocalSessionDirectory::list() {
  std::vector<json> out;
  for (const auto& s : manager_.list()) out.push_back(session_json(s));
  return out;
}

std::optional<json> LocalSessionDirectory::get(const std::string& session_id) {
  auto info = manager_.get(session_id);
  if (!info) return std::nullopt;
  return session_json(*info);
}

}  // namespace vncgate::service
