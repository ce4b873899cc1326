// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "gateway/session.hpp"
#include "util/error.hpp"

namespace vncgate::gateway {

struct ManagerOptions {
  std::chrono::seconds idle_timeout{1800};  // a session without viewers this long is closed
  std::chrono::seconds sweep_interval{30};
  std::chrono::seconds link_ttl{60};  // default lifetime of a one-time link
  bool audit_keys = false;
  std::chrono::milliseconds hibernate_after{10000};  // see SessionOptions
  std::string record_dir;                            // recordings go to <record_dir>/<session id>/
  std::string viewer_password;                       // VNC Authentication for viewers (links are the usual gate)
  std::size_t max_sessions = 256;                    // live sessions at once; create_link refuses more
  std::size_t max_sessions_per_client = 64;          // of those, started by one client (an API key)
  int connect_attempts = 12;                         // per session before its console first answered; 0 = no cap
  long long max_picture_pixels = 16LL << 20;         // larger console screens are refused (hostile servers)
  std::uint64_t picture_memory = 2ULL << 30;         // all sessions' pictures together (rfb::PictureBudget)
  // Called once a recorded session has closed and finalised its files in <record_dir>/<id>/ (any thread).
  std::function<void(const std::string& session_id, const std::string& dir)> recording_closed;
};

struct Link {
  std::string session_id, token;  // token: shown once, only its SHA-256 is kept
  std::int64_t expires_unix_ms = 0;
  bool view_only = false;
};

// A cap was reached (a new session over ManagerOptions::max_sessions): the client may try again later.
class LimitError : public UsageError {
 public:
  using UsageError::UsageError;
};

struct Redeemed {
  std::string session_id;
  bool view_only = false;
};

// The live sessions of a gateway: one Session per target key (target + record flag), one-time links to join
// them, idle expiry. Thread-safety: every method may be called from any thread (an internal mutex guards the
// bookkeeping; sessions run on their own strands of the executor). The sweep runs on the executor.
// Tokens: 128 random bits (RAND_bytes), base64url; only SHA-256 digests are stored, compared in constant time
// against every live digest; a redeemed token is burned.
class SessionManager {
 public:
  SessionManager(asio::any_io_executor ex, AcquireFn acquire, ManagerOptions options);
  ~SessionManager();  // shutdown()
  SessionManager(const SessionManager&) = delete;
  SessionManager& operator=(const SessionManager&) = delete;

  // Reuses the live session of the same target key or starts one for `client` (who asks: an API key's name, or
  // "" when there are no keys); returns a fresh one-time link. Throws ConfigError when `record` is asked without a
  // record_dir, LimitError when max_sessions are live, or max_sessions_per_client of this client's.
  Link create_link(const std::string& target, bool view_only, std::optional<std::chrono::seconds> ttl, bool record,
                   const std::string& client = {});
  // The session of create_link without a link (its links are kept elsewhere: a cluster's database); returns its id.
  std::string open(const std::string& target, bool record, const std::string& client = {});
  // A link to an existing session; throws UsageError when the session is unknown.
  Link create_link_for(const std::string& session_id, bool view_only, std::optional<std::chrono::seconds> ttl);
  // Burns the token: the session and view-only flag; nullopt when unknown, used or expired.
  std::optional<Redeemed> redeem(const std::string& token);
  // Hands a viewer to a session; closes the stream and throws UsageError when the session is gone.
  void attach(const std::string& session_id, std::unique_ptr<io::ByteStream> viewer, bool view_only);

  std::vector<SessionInfo> list() const;
  std::optional<SessionInfo> get(const std::string& id) const;
  // The live session itself (to read its text); nullptr when unknown.
  std::shared_ptr<Session> find(const std::string& id) const;
  bool close(const std::string& id);  // closes its viewers and upstream
  int close_all();
  // close_all() and stops the sweep; waits (up to 5 s) until the sessions finalised their recordings, so it
  // must not be called from the executor's only thread.
  void shutdown();
  std::size_t count() const;
  std::chrono::seconds link_ttl() const { return options_.link_ttl; }
  void on_count_changed(std::function<void(std::size_t)> callback);

  // One sweep now: purges expired tokens, closes idle sessions. Runs by itself every sweep_interval.
  void sweep();

 private:
  struct Token {
    std::array<unsigned char, 32> digest;
    std::string session_id;
    std::int64_t expires_unix_ms;
    bool view_only;
  };
  struct Entry {
    std::shared_ptr<Session> session;
    std::string key;
    std::string client;  // who started it (counted against max_sessions_per_client)
  };

  Link make_link(const std::string& session_id, bool view_only, std::optional<std::chrono::seconds> ttl);
  void schedule_sweep();
  void removed(std::vector<std::shared_ptr<Session>> sessions);
  // Closes `session`; `done` runs once it has finalised, after recording_closed for a recorded session.
  void close_session(const std::shared_ptr<Session>& session, std::function<void()> done = {});
  void notify_count();

  asio::any_io_executor executor_;
  SharedAcquireFn acquire_;
  ManagerOptions options_;
  std::shared_ptr<rfb::PictureBudget> picture_budget_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry> sessions_;      // by id
  std::map<std::string, std::string> by_key_;  // target key -> id
  std::vector<Token> tokens_;
  std::function<void(std::size_t)> count_changed_;
  asio::strand<asio::any_io_executor> sweep_strand_;
  asio::steady_timer sweep_timer_;
  bool stopped_ = false;
  // Sessions closed but not yet finalised (their recordings are written on threads of their own); shutdown()
  // waits for them all, also for those closed long before. Shared with the callbacks, which may outlive us.
  struct Closing {
    std::mutex mutex;
    std::condition_variable none_left;
    int count = 0;
  };
  std::shared_ptr<Closing> closing_ = std::make_shared<Closing>();
};

// 128 random bits as base64url without padding (22 characters).
std::string random_token();

}  // namespace vncgate::gateway
