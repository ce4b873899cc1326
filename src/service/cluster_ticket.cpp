// SPDX-License-Identifier: Apache-2.0
#include "service/cluster_ticket.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <vector>

#include "gateway/session.hpp"
#include "gateway/session_manager.hpp"
#include "util/error.hpp"

namespace vncgate::service {

namespace {

std::string hex(const unsigned char* data, std::size_t size) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < size; ++i) {
    out += digits[data[i] >> 4];
    out += digits[data[i] & 15];
  }
  return out;
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts(1);
  for (char c : text) {
    if (c == separator)
      parts.emplace_back();
    else
      parts.back() += c;
  }
  return parts;
}

}  // namespace

ClusterTicket::ClusterTicket(std::string secret, std::chrono::milliseconds lifetime)
    : secret_(std::move(secret)), lifetime_(lifetime) {
  if (secret_.size() < 32) throw ConfigError("cluster.secret: at least 32 characters");
}

std::string ClusterTicket::mac(const std::string& session_id, bool view_only, std::int64_t expires_ms,
                               const std::string& nonce) const {
  const std::string message = "vncgate-viewer-v1\n" + session_id + "\n" + (view_only ? "1" : "0") + "\n" +
                              std::to_string(expires_ms) + "\n" + nonce;
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest.data(), &length);
  return hex(digest.data(), length);
}

std::string ClusterTicket::issue(const std::string& session_id, bool view_only) const {
  const auto expires = gateway::unix_now_ms() + lifetime_.count();
  const auto nonce = gateway::random_token();
  return "v1." + std::to_string(expires) + "." + nonce + "." + (view_only ? "1" : "0") + "." +
         mac(session_id, view_only, expires, nonce);
}

std::optional<bool> ClusterTicket::accept(const std::string& ticket, const std::string& session_id, std::string* why) {
  const auto refuse = [why](const char* reason) {
    if (why) *why = reason;
    return std::nullopt;
  };
  if (ticket.size() > 256) return refuse("malformed ticket");
  const auto parts = split(ticket, '.');
  if (parts.size() != 5 || parts[0] != "v1" || parts[1].empty() || parts[1].size() > 15 ||
      parts[1].find_first_not_of("0123456789") != std::string::npos || parts[2].size() < 16 || parts[2].size() > 64 ||
      (parts[3] != "0" && parts[3] != "1") || parts[4].size() != 64)
    return refuse("malformed ticket");
  const std::int64_t expires = std::stoll(parts[1]);
  const bool view_only = parts[3] == "1";
  const auto want = mac(session_id, view_only, expires, parts[2]);
  if (CRYPTO_memcmp(want.data(), parts[4].data(), want.size()) != 0) return refuse("bad signature");
  const auto now = gateway::unix_now_ms();
  if (expires <= now) return refuse("expired ticket");
  if (expires > now + 2 * lifetime_.count()) return refuse("ticket expires too late");
  std::lock_guard lock(mutex_);
  std::erase_if(used_, [now](const auto& entry) { return entry.second <= now; });
  if (!used_.emplace(parts[2], expires).second) return refuse("ticket used already");
  return view_only;
}

}  // namespace vncgate::service
