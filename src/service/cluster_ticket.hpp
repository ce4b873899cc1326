// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace vncgate::service {

// Authenticates a node that forwards a viewer to the session's owner (the internal WebSocket
// /internal/v1/sessions/{id}/viewer). A ticket is "v1.EXPIRES_MS.NONCE.VIEW_ONLY.MAC": MAC = HMAC-SHA256 over the
// session id, the view-only flag, the expiry and the nonce with cluster.secret as key. The owner accepts a ticket
// once (nonces remembered until they expire), only for that session, only before its expiry (`lifetime` after
// issue, so clocks may differ by up to that much), and compares MACs in constant time. The secret never leaves
// this object.
class ClusterTicket {
 public:
  explicit ClusterTicket(std::string secret, std::chrono::milliseconds lifetime = std::chrono::seconds(30));

  std::string issue(const std::string& session_id, bool view_only) const;
  // The view-only flag of a valid, unused ticket for `session_id`; nullopt otherwise (and the reason in `why`,
  // for the owner's log: never the ticket itself).
  std::optional<bool> accept(const std::string& ticket, const std::string& session_id, std::string* why = nullptr);

  // The header that carries it.
  static constexpr const char* kHeader = "X-Vncgate-Ticket";

 private:
  std::string mac(const std::string& session_id, bool view_only, std::int64_t expires_ms,
                  const std::string& nonce) const;

  std::string secret_;
  std::chrono::milliseconds lifetime_;
  std::mutex mutex_;
  std::map<std::string, std::int64_t> used_;  // nonce -> expiry (unix ms)
};

}  // namespace vncgate::service
