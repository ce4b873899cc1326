// SPDX-License-Identifier: Apache-2.0
#include "service/cluster_sessions.hpp"

#include <openssl/sha.h>

#include <map>
#include <tuple>

#include "io/endpoint.hpp"
#include "jobs/postgres/connection.hpp"
#include "jobs/postgres/connection_pool.hpp"
#include "jobs/postgres/listener.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace vncgate::service {

using jobs::postgres::Connection;
using jobs::postgres::PgError;
using nlohmann::json;
using namespace std::chrono;

namespace {

constexpr const char* kChannel = "vncgate_console_sessions";
constexpr const char* kRegister =
    "INSERT INTO cluster_nodes (node_id, url, heartbeat_at) VALUES ($1, $2, now()) "
    "ON CONFLICT (node_id) DO UPDATE SET url = $2, heartbeat_at = now()";
constexpr const char* kUnregister = "DELETE FROM cluster_nodes WHERE node_id = $1";

std::string sha256_hex(const std::string& text) {
  static const char* digits = "0123456789abcdef";
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  std::string out;
  for (unsigned char c : digest) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

bool is_token(const std::string& token) {
  return !token.empty() && token.size() <= 64 &&
         token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
             std::string::npos;
}

// A statement on a pooled connection, once more on a fresh one when the old one turned out dead (a restarted
// server). Statements here are single and autocommitted.
template <class F>
auto with_connection(jobs::postgres::ConnectionPool& pool, F&& work) {
  for (int attempt = 1;; ++attempt) {
    auto connection = pool.acquire();
    try {
      return work(*connection);
    } catch (const PgError& e) {
      if (!e.connection_lost() || attempt >= 2) throw;
      connection.discard();
      pool.discard_idle();
    }
  }
}

// The liveness condition on cluster_nodes n, with the timeout in ms as parameter `param`.
std::string alive(const char* param) {
  return std::string("n.heartbeat_at > now() - ") + param + "::double precision * interval '1 millisecond'";
}

}  // namespace

ClusterSessions::ClusterSessions(gateway::SessionManager& manager, ClusterOptions options)
    : manager_(manager), options_(std::move(options)) {
  jobs::postgres::ConnectionSettings settings;
  settings.url = options_.database_url;
  settings.label = io::redact_url(options_.database_url);
  pool_ = std::make_unique<jobs::postgres::ConnectionPool>(settings, 4, seconds(10));
  listener_ = std::make_unique<jobs::postgres::Listener>(settings, kChannel, wake_);
}

ClusterSessions::~ClusterSessions() { stop(); }

void ClusterSessions::start() {
  const std::int64_t timeout_ms = options_.node_timeout.count();
  const auto others = with_connection(*pool_, [&](Connection& c) {
    c.run("cluster_register", kRegister, {options_.node_id, options_.advertise_url});
    return c
        .run("cluster_unreachable_peers",
             ("SELECT count(*) FROM cluster_nodes n WHERE n.node_id <> $1 AND " + alive("$3") +
              " AND (n.url = '' OR $2 = '')")
                 .c_str(),
             {options_.node_id, options_.advertise_url, timeout_ms})
        .integer(0, 0);
  });
  if (others > 0) {
    with_connection(*pool_,
                    [&](Connection& c) { return c.run("cluster_unregister", kUnregister, {options_.node_id}).rows(); });
    throw ConfigError(
        "another vncgate serve (role all or api) uses this PostgreSQL database, and it or this one has no "
        "cluster.advertise_url: console links could not be forwarded between them. Set cluster.advertise_url and "
        "cluster.secret on every serving node (docs/deployment.md)");
  }
  listener_->wait_listening(seconds(5));
  started_ = true;
  heartbeat_ = std::thread([this] { run_heartbeat(); });
  spdlog::info("cluster: node {} serves console sessions through PostgreSQL{}", options_.node_id,
               options_.advertise_url.empty() ? " (single node: no cluster.advertise_url)"
                                              : ", reachable at " + options_.advertise_url);
}

void ClusterSessions::stop() {
  if (stopping_.exchange(true)) return;
  wake_.notify();
  if (heartbeat_.joinable()) heartbeat_.join();
  if (!started_) return;
  try {
    with_connection(*pool_,
                    [&](Connection& c) { return c.run("cluster_unregister", kUnregister, {options_.node_id}).rows(); });
  } catch (const std::exception& e) {
    spdlog::warn("cluster: node {} not removed from the database ({}); the others drop it after {} s", options_.node_id,
                 e.what(), duration_cast<seconds>(options_.node_timeout).count());
  }
}

void ClusterSessions::run_heartbeat() {
  const auto interval = std::max<milliseconds>(options_.node_timeout / 4, milliseconds(250));
  bool failing = false;
  while (!stopping_) {
    const auto mark = wake_.mark();
    try {
      beat();
      if (std::exchange(failing, false)) spdlog::info("cluster: heartbeat of node {} back", options_.node_id);
    } catch (const std::exception& e) {
      if (!std::exchange(failing, true))
        spdlog::warn("cluster: heartbeat of node {} failed: {}", options_.node_id, e.what());
    }
    wake_.wait(mark, interval);
  }
}

void ClusterSessions::beat() {
  const std::int64_t timeout_ms = options_.node_timeout.count();
  // Live sessions here, and the figures the other nodes show for them.
  std::map<std::string, json> local;
  for (const auto& info : manager_.list())
    if (info.state != gateway::SessionState::closed) local[info.id] = session_json(info);
  std::set<std::string> opening;
  {
    std::lock_guard lock(mutex_);
    opening = opening_;
  }
  std::vector<std::string> closed_elsewhere;
  with_connection(*pool_, [&](Connection& c) {
    c.run("cluster_register", kRegister, {options_.node_id, options_.advertise_url});
    auto dead = c.run(
        "cluster_drop_dead",
        ("DELETE FROM cluster_nodes n WHERE n.node_id <> $1 AND NOT " + alive("$2") + " RETURNING node_id").c_str(),
        {options_.node_id, timeout_ms});
    for (int i = 0; i < dead.rows(); ++i)
      spdlog::warn("cluster: node {} silent for {} s: its console sessions ended", dead.text(i, 0), timeout_ms / 1000);
    c.run("cluster_drop_links", "DELETE FROM console_links WHERE expires_at <= now()");
    auto mine =
        c.run("cluster_my_sessions", "SELECT session_id FROM console_sessions WHERE node_id = $1", {options_.node_id});
    std::set<std::string> listed;
    for (int i = 0; i < mine.rows(); ++i) listed.insert(mine.text(i, 0));
    for (const auto& id : listed) {
      if (auto it = local.find(id); it != local.end())
        c.run("cluster_session_info", "UPDATE console_sessions SET info = $2::jsonb WHERE session_id = $1",
              {id, it->second.dump()});
      else if (auto now = manager_.get(id); !now || now->state == gateway::SessionState::closed)  // ended here
        c.run("cluster_session_ended", "DELETE FROM console_sessions WHERE session_id = $1 AND node_id = $2",
              {id, options_.node_id});
    }
    for (const auto& [id, info] : local)
      if (!listed.count(id) && !opening.count(id)) closed_elsewhere.push_back(id);
    return 0;
  });
  for (const auto& id : closed_elsewhere) {
    spdlog::info("cluster: session {} closed through another node (or this node was declared dead)", id);
    manager_.close(id);
  }
}

gateway::Link ClusterSessions::create_link(const std::string& target, bool view_only, std::optional<seconds> ttl,
                                           bool record, const std::string& client) {
  const std::string key = sha256_hex(target + (record ? "\n+record" : ""));
  const std::int64_t timeout_ms = options_.node_timeout.count();
  std::string mine;  // a session started here for this key
  for (int attempt = 0; attempt < 4; ++attempt) {
    auto found = with_connection(*pool_, [&](Connection& c) -> std::string {
      auto r = c.run("cluster_find_session",
                     ("SELECT s.session_id FROM console_sessions s JOIN cluster_nodes n ON n.node_id = s.node_id "
                      "WHERE s.target_key = $1 AND " +
                      alive("$2"))
                         .c_str(),
                     {key, timeout_ms});
      if (r.rows() > 0) return r.text(0, 0);
      // A row of a dead node the heartbeats have not removed yet: the target opens here instead.
      c.run("cluster_drop_stale_session",
            ("DELETE FROM console_sessions s USING cluster_nodes n WHERE s.target_key = $1 AND n.node_id = s.node_id "
             "AND NOT " +
             alive("$2"))
                .c_str(),
            {key, timeout_ms});
      return {};
    });
    if (!found.empty()) {
      if (!mine.empty() && mine != found) {  // another node won the race for this target: ours goes
        {
          std::lock_guard lock(mutex_);
          opening_.erase(mine);
        }
        manager_.close(mine);
        mine.clear();
      }
      if (auto link = insert_link(found, view_only, ttl)) return *link;
      continue;  // closed meanwhile
    }
    if (mine.empty()) {
      // Under the lock with its mark: a heartbeat that sees the session sees it as opening (not closed elsewhere).
      std::lock_guard lock(mutex_);
      mine = manager_.open(target, record, client);  // LimitError, ConfigError
      opening_.insert(mine);
    }
    json info = json::object();
    if (auto live = manager_.get(mine)) info = session_json(*live);
    try {
      with_connection(*pool_, [&](Connection& c) {
        return c
            .run("cluster_insert_session",
                 "INSERT INTO console_sessions (session_id, target_key, node_id, info) VALUES ($1, $2, $3, $4::jsonb) "
                 "ON CONFLICT DO NOTHING",
                 {mine, key, options_.node_id, info.dump()})
            .rows();
      });
    } catch (...) {
      std::lock_guard lock(mutex_);
      opening_.erase(mine);
      throw;
    }
    // Whoever's row is there now (ours, or one inserted a moment before) is found on the next round.
  }
  if (!mine.empty()) {
    std::lock_guard lock(mutex_);
    opening_.erase(mine);
  }
  throw StorageError("console session for this target: the database kept changing under us; try again");
}

std::optional<gateway::Link> ClusterSessions::insert_link(const std::string& session_id, bool view_only,
                                                          std::optional<seconds> ttl) {
  gateway::Link link;
  link.session_id = session_id;
  link.token = gateway::random_token();
  link.view_only = view_only;
  const std::int64_t ttl_ms = duration_cast<milliseconds>(ttl.value_or(manager_.link_ttl())).count();
  auto expires = with_connection(*pool_, [&](Connection& c) -> std::optional<std::int64_t> {
    auto r = c.run(
        "cluster_insert_link",
        "INSERT INTO console_links (token_sha256, session_id, view_only, expires_at) "
        "SELECT decode($1, 'hex'), session_id, $3::boolean, now() + $4::double precision * interval '1 millisecond' "
        "FROM console_sessions WHERE session_id = $2 "
        "RETURNING (extract(epoch FROM expires_at) * 1000)::bigint",
        {sha256_hex(link.token), session_id, view_only, ttl_ms});
    if (r.rows() == 0) return std::nullopt;
    return r.integer(0, 0);
  });
  {
    std::lock_guard lock(mutex_);
    opening_.erase(session_id);  // its row is there: the heartbeat may look after it now
  }
  if (!expires) return std::nullopt;
  link.expires_unix_ms = *expires;
  return link;
}

std::optional<gateway::Link> ClusterSessions::create_link_for(const std::string& session_id, bool view_only,
                                                              std::optional<seconds> ttl) {
  return insert_link(session_id, view_only, ttl);
}

std::optional<Redemption> ClusterSessions::redeem(const std::string& token) {
  if (!is_token(token)) return std::nullopt;
  const std::int64_t timeout_ms = options_.node_timeout.count();
  return with_connection(*pool_, [&](Connection& c) -> std::optional<Redemption> {
    // Deleting the row burns the link, whatever happens next: a token is redeemed once, on one node.
    auto r = c.run("cluster_redeem",
                   ("DELETE FROM console_links l USING console_sessions s, cluster_nodes n "
                    "WHERE l.token_sha256 = decode($1, 'hex') AND s.session_id = l.session_id "
                    "AND n.node_id = s.node_id "
                    "RETURNING l.session_id, l.view_only, l.expires_at > now(), s.node_id, n.url, " +
                    alive("$2"))
                       .c_str(),
                   {sha256_hex(token), timeout_ms});
    if (r.rows() == 0 || !r.boolean(0, 2) || !r.boolean(0, 5)) return std::nullopt;
    Redemption out{r.text(0, 0), r.boolean(0, 1), {}};
    if (r.text(0, 3) != options_.node_id) {
      out.owner_url = r.text(0, 4);
      if (out.owner_url.empty()) {
        spdlog::warn("cluster: session {} runs on node {}, which has no cluster.advertise_url", out.session_id,
                     r.text(0, 3));
        return std::nullopt;
      }
    }
    return out;
  });
}

std::vector<json> ClusterSessions::rows(const char* name, const char* sql, const std::string& session_id) {
  const std::int64_t timeout_ms = options_.node_timeout.count();
  auto result = with_connection(*pool_, [&](Connection& c) {
    std::vector<std::tuple<std::string, std::string, std::string>> out;
    auto r = session_id.empty() ? c.run(name, sql, {timeout_ms}) : c.run(name, sql, {timeout_ms, session_id});
    for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.text(i, 0), r.text(i, 1), r.text(i, 2));
    return out;
  });
  std::vector<json> out;
  for (const auto& [id, node, info] : result) {
    json session;
    if (node == options_.node_id) {  // ours: the figures of now rather than of the last heartbeat
      auto live = manager_.get(id);
      if (!live) continue;
      session = session_json(*live);
    } else {
      session = json::parse(info, nullptr, false);
      if (!session.is_object() || !session.contains("session_id")) continue;  // not published yet
    }
    session["node"] = node;
    out.push_back(std::move(session));
  }
  return out;
}

std::vector<json> ClusterSessions::list() {
  static const std::string sql =
      "SELECT s.session_id, s.node_id, s.info::text FROM console_sessions s JOIN cluster_nodes n "
      "ON n.node_id = s.node_id WHERE " +
      alive("$1") + " ORDER BY s.created_at, s.session_id";
  return rows("cluster_list_sessions", sql.c_str(), {});
}

std::optional<json> ClusterSessions::get(const std::string& session_id) {
  static const std::string sql =
      "SELECT s.session_id, s.node_id, s.info::text FROM console_sessions s JOIN cluster_nodes n "
      "ON n.node_id = s.node_id WHERE " +
      alive("$1") + " AND s.session_id = $2";
  auto found = rows("cluster_get_session", sql.c_str(), session_id);
  if (found.empty()) return std::nullopt;
  return found.front();
}

bool ClusterSessions::close(const std::string& session_id) {
  auto owner = with_connection(*pool_, [&](Connection& c) -> std::optional<std::string> {
    auto r = c.run("cluster_close_session", "DELETE FROM console_sessions WHERE session_id = $1 RETURNING node_id",
                   {session_id});
    if (r.rows() == 0) return std::nullopt;
    if (r.text(0, 0) != options_.node_id) c.run("cluster_notify", "SELECT pg_notify($1, '')", {kChannel});
    return r.text(0, 0);
  });
  if (!owner) return manager_.close(session_id);  // a session here whose row is not written yet
  if (*owner == options_.node_id) manager_.close(session_id);
  return true;
}

int ClusterSessions::close_all() {
  auto closed = with_connection(*pool_, [&](Connection& c) {
    std::vector<std::pair<std::string, std::string>> out;
    auto r = c.run("cluster_close_all", "DELETE FROM console_sessions RETURNING session_id, node_id");
    for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.text(i, 0), r.text(i, 1));
    if (!out.empty()) c.run("cluster_notify", "SELECT pg_notify($1, '')", {kChannel});
    return out;
  });
  for (const auto& [id, node] : closed)
    if (node == options_.node_id) manager_.close(id);
  return static_cast<int>(closed.size());
}

}  // namespace vncgate::service
