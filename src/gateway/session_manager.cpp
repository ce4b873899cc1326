// SPDX-License-Identifier: Apache-2.0
#include "gateway/session_manager.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <condition_variable>
#include <future>

#include "io/endpoint.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace vncgate::gateway {

using namespace std::chrono;

namespace {

std::array<unsigned char, 32> digest_of(const std::string& token) {
  std::array<unsigned char, 32> d{};
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), d.data());
  return d;
}

std::string base64url(const unsigned char* data, std::size_t size) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t bits = 0;
  int count = 0;
  for (std::size_t i = 0; i < size; ++i) {
    bits = (bits << 8) | data[i];
    count += 8;
    while (count >= 6) {
      count -= 6;
      out.push_back(kAlphabet[(bits >> count) & 63]);
    }
  }
  if (count > 0) out.push_back(kAlphabet[(bits << (6 - count)) & 63]);
  return out;
}

std::string random_id() {
  unsigned char bytes[9];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("RAND_bytes failed");
  return base64url(bytes, sizeof bytes);
}

}  // namespace

std::string random_token() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("RAND_bytes failed");
  return base64url(bytes, sizeof bytes);
}

SessionManager::SessionManager(asio::any_io_executor ex, AcquireFn acquire, ManagerOptions options)
    : executor_(std::move(ex)),
      acquire_(std::make_shared<const AcquireFn>(std::move(acquire))),
      options_(std::move(options)),
      picture_budget_(std::make_shared<rfb::PictureBudget>(options_.picture_memory)),
      sweep_strand_(asio::make_strand(executor_)),
      sweep_timer_(sweep_strand_) {
  schedule_sweep();
}

SessionManager::~SessionManager() { shutdown(); }

void SessionManager::schedule_sweep() {
  sweep_timer_.expires_after(options_.sweep_interval);
  sweep_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled by shutdown
    sweep();
    schedule_sweep();
  });
}

Link SessionManager::create_link(const std::string& target, bool view_only, std::optional<seconds> ttl, bool record,
                                 const std::string& client) {
  return make_link(open(target, record, client), view_only, ttl);
}

std::string SessionManager::open(const std::string& target, bool record, const std::string& client) {
  if (record && options_.record_dir.empty())
    throw ConfigError("recording a live session needs a recording directory (record_dir)");
  const std::string key = target + (record ? "\n+record" : "");
  std::shared_ptr<Session> fresh;
  std::string id;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) throw UsageError("the gateway is shutting down");
    if (auto it = by_key_.find(key); it != by_key_.end()) {
      auto& entry = sessions_.at(it->second);
      if (entry.session->info().state != SessionState::closed) id = it->second;
    }
    if (id.empty()) {
      // Sessions that ended by themselves stay listed until the sweep; they hold nothing and do not count.
      std::size_t live = 0, clients = 0;
      for (const auto& [_, entry] : sessions_) {
        if (entry.session->info().state == SessionState::closed) continue;
        ++live;
        clients += !client.empty() && entry.client == client;
      }
      if (live >= options_.max_sessions)
        throw LimitError("too many live sessions (" + std::to_string(options_.max_sessions) +
                         ", gateway.max_sessions); close some or try again later");
      if (!client.empty() && clients >= options_.max_sessions_per_client)
        throw LimitError("too many live sessions started with this API key (" +
                         std::to_string(options_.max_sessions_per_client) +
                         ", gateway.max_sessions_per_key); close some or try again later");
      id = random_id();
      SessionOptions so;
      so.target = target;
      so.target_label = io::redact_url(target);
      so.viewer_password = options_.viewer_password;
      so.audit_keys = options_.audit_keys;
      so.hibernate_after = options_.hibernate_after;
      so.connect_attempts = options_.connect_attempts;
      so.upstream.max_pixels = options_.max_picture_pixels;
      so.upstream.picture_budget = picture_budget_;
      if (record) so.record_dir = options_.record_dir + "/" + id;
      fresh = std::make_shared<Session>(executor_, id, acquire_, std::move(so));
      if (auto old = by_key_.find(key); old != by_key_.end()) sessions_.erase(old->second);
      sessions_[id] = {fresh, key, client};
      by_key_[key] = id;
    }
  }
  if (fresh) {
    spdlog::info("gateway: session {} for {}", id, io::redact_url(target));
    try {
      fresh->start();
    } catch (...) {  // e.g. the recording directory cannot be made: no half-started session stays listed
      close(id);
      throw;
    }
    notify_count();
  }
  return id;
}

Link SessionManager::create_link_for(const std::string& session_id, bool view_only, std::optional<seconds> ttl) {
  {
    std::lock_guard lock(mutex_);
    if (!sessions_.count(session_id)) throw UsageError("no session " + session_id);
  }
  return make_link(session_id, view_only, ttl);
}

Link SessionManager::make_link(const std::string& session_id, bool view_only, std::optional<seconds> ttl) {
  Link link;
  link.session_id = session_id;
  link.token = random_token();
  link.view_only = view_only;
  link.expires_unix_ms = unix_now_ms() + duration_cast<milliseconds>(ttl.value_or(options_.link_ttl)).count();
  std::lock_guard lock(mutex_);
  tokens_.push_back({digest_of(link.token), session_id, link.expires_unix_ms, view_only});
  return link;
}

std::optional<Redeemed> SessionManager::redeem(const std::string& token) {
  const auto digest = digest_of(token);
  const auto now = unix_now_ms();
  std::lock_guard lock(mutex_);
  // Every live digest is compared, in constant time, so timing tells nothing about near misses.
  std::size_t found = tokens_.size();
  for (std::size_t i = 0; i < tokens_.size(); ++i)
    if (CRYPTO_memcmp(tokens_[i].digest.data(), digest.data(), digest.size()) == 0) found = i;
  if (found == tokens_.size()) return std::nullopt;
  Token t = tokens_[found];
  tokens_.erase(tokens_.begin() + static_cast<std::ptrdiff_t>(found));  // burned, whatever happens next
  if (now >= t.expires_unix_ms || !sessions_.count(t.session_id)) return std::nullopt;
  return Redeemed{t.session_id, t.view_only};
}

void SessionManager::attach(const std::string& session_id, std::unique_ptr<io::ByteStream> viewer, bool view_only) {
  std::shared_ptr<Session> session;
  {
    std::lock_guard lock(mutex_);
    if (auto it = sessions_.find(session_id); it != sessions_.end()) session = it->second.session;
  }
  if (!session) {
    viewer->close();
    throw UsageError("no session " + session_id);
  }
  session->attach(std::move(viewer), view_only);
}

std::vector<SessionInfo> SessionManager::list() const {
  std::lock_guard lock(mutex_);
  std::vector<SessionInfo> out;
  for (const auto& [id, entry] : sessions_) out.push_back(entry.session->info());
  return out;
}

std::optional<SessionInfo> SessionManager::get(const std::string& id) const {
  std::lock_guard lock(mutex_);
  if (auto it = sessions_.find(id); it != sessions_.end()) return it->second.session->info();
  return std::nullopt;
}

std::shared_ptr<Session> SessionManager::find(const std::string& id) const {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : it->second.session;
}

bool SessionManager::close(const std::string& id) {
  std::shared_ptr<Session> session;
  {
    std::lock_guard lock(mutex_);
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return false;
    session = it->second.session;
    if (auto k = by_key_.find(it->second.key); k != by_key_.end() && k->second == id) by_key_.erase(k);
    sessions_.erase(it);
  }
  removed({session});
  return true;
}

int SessionManager::close_all() {
  std::vector<std::shared_ptr<Session>> all;
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, entry] : sessions_) all.push_back(entry.session);
    sessions_.clear();
    by_key_.clear();
    tokens_.clear();
  }
  const int n = static_cast<int>(all.size());
  removed(std::move(all));
  return n;
}

void SessionManager::removed(std::vector<std::shared_ptr<Session>> sessions) {
  if (sessions.empty()) return;
  for (auto& s : sessions) close_session(s);
  notify_count();
}

void SessionManager::close_session(const std::shared_ptr<Session>& session, std::function<void()> done) {
  {
    std::lock_guard lock(closing_->mutex);
    ++closing_->count;
  }
  auto finished = [closing = closing_, done = std::move(done)] {
    if (done) done();
    std::lock_guard lock(closing->mutex);
    if (--closing->count == 0) closing->none_left.notify_all();
  };
  const auto info = session->info();
  if (!info.recording || !options_.recording_closed) {
    session->close(std::move(finished));
    return;
  }
  session->close([callback = options_.recording_closed, id = info.id, dir = options_.record_dir + "/" + info.id,
                  finished = std::move(finished)] {
    callback(id, dir);
    finished();
  });
}

void SessionManager::shutdown() {
  std::vector<std::shared_ptr<Session>> all;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
    for (auto& [id, entry] : sessions_) all.push_back(entry.session);
    sessions_.clear();
    by_key_.clear();
    tokens_.clear();
  }
  asio::post(sweep_strand_, [this] { sweep_timer_.cancel(); });
  for (auto& s : all) close_session(s);
  // Every session closed so far, now or before, finalises its recording (MP4 trailer, FBS end mark) first.
  const auto deadline = steady_clock::now() + seconds(30);
  {
    std::unique_lock lock(closing_->mutex);
    if (!closing_->none_left.wait_until(lock, deadline, [this] { return closing_->count == 0; }))
      spdlog::warn("gateway: {} session(s) still finalising at shutdown", closing_->count);
  }
  if (!all.empty()) notify_count();
  // The cancelled sweep handler must run before this object goes away.
  std::promise<void> cancelled;
  asio::post(sweep_strand_, [&cancelled] { cancelled.set_value(); });
  cancelled.get_future().wait_until(deadline);
}

std::size_t SessionManager::count() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

void SessionManager::on_count_changed(std::function<void(std::size_t)> callback) {
  std::lock_guard lock(mutex_);
  count_changed_ = std::move(callback);
}

void SessionManager::notify_count() {
  std::function<void(std::size_t)> callback;
  std::size_t n = 0;
  {
    std::lock_guard lock(mutex_);
    callback = count_changed_;
    n = sessions_.size();
  }
  if (callback) callback(n);
}

void SessionManager::sweep() {
  const auto now = unix_now_ms();
  const auto idle_ms = duration_cast<milliseconds>(options_.idle_timeout).count();
  std::vector<std::shared_ptr<Session>> expired;
  {
    std::lock_guard lock(mutex_);
    std::erase_if(tokens_, [now](const Token& t) { return now >= t.expires_unix_ms; });
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      const auto info = it->second.session->info();
      const bool idle = info.viewers == 0 && now - info.last_used_unix_ms >= idle_ms;
      if (!idle && info.state != SessionState::closed) {
        ++it;
        continue;
      }
      spdlog::info("gateway: session {} idle, closing", it->first);
      expired.push_back(it->second.session);
      if (auto k = by_key_.find(it->second.key); k != by_key_.end() && k->second == it->first) by_key_.erase(k);
      it = sessions_.erase(it);
    }
  }
  removed(std::move(expired));
}

}  // namespace vncgate::gateway
