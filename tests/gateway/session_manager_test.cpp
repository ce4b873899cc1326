// SPDX-License-Identifier: Apache-2.0
// SessionManager and Session over loopback: the upstream is test::RfbUpstream (our own rfb::ServerConnection
// serving a fixed picture, a real RFB peer), viewers are rfb::BlockingClient instances and raw sockets.
#include "gateway/session_manager.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <set>
#include <thread>

#include "rfb/blocking_client.hpp"
#include "support/process.hpp"
#include "support/rfb_upstream.hpp"
#include "util/error.hpp"

namespace vncgate::gateway {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;
using framebuffer::PixelBuffer;

// Polls `pred` until true or `timeout`.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = 5s) {
  for (auto until = std::chrono::steady_clock::now() + timeout; std::chrono::steady_clock::now() < until;) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

class SessionManagerTest : public testing::Test {
 protected:
  void SetUp() override {
    thread_ = std::thread([this] { ctx_.run(); });
  }
  void TearDown() override {
    if (manager_) manager_->on_count_changed({});  // test bodies' callbacks point at their locals
    manager_.reset();
    work_.reset();
    ctx_.stop();
    thread_.join();
  }

  SessionManager& manager(ManagerOptions options = {}) {
    AcquireFn acquire = [](const std::string& target) -> asio::awaitable<providers::ConsoleEndpoint> {
      providers::ConsoleEndpoint ep;
      ep.endpoint.url = target;
      co_return ep;
    };
    manager_ = std::make_unique<SessionManager>(ctx_.get_executor(), acquire, options);
    return *manager_;
  }

  // Accepts one viewer connection on a loopback port and attaches it to `session_id`; returns the port.
  int viewer_port(const std::string& session_id, bool view_only) {
    auto acceptor = std::make_shared<tcp::acceptor>(ctx_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    const int port = acceptor->local_endpoint().port();
    asio::co_spawn(
        ctx_,
        [this, acceptor, session_id, view_only]() -> asio::awaitable<void> {
          auto socket = co_await acceptor->async_accept(asio::use_awaitable);
          manager_->attach(session_id, io::adopt_tcp(std::move(socket)), view_only);
        },
        asio::detached);
    return port;
  }

  std::unique_ptr<rfb::BlockingClient> viewer(const std::string& session_id, bool view_only) {
    const int port = viewer_port(session_id, view_only);
    auto client = std::make_unique<rfb::BlockingClient>(io::Endpoint{.url = "vnc://127.0.0.1:" + std::to_string(port)},
                                                        rfb::ClientOptions{}, 10s);
    client->full_update(10s);
    return client;
  }

  asio::io_context ctx_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{ctx_.get_executor()};
  test::RfbUpstream upstream_{ctx_};
  std::unique_ptr<SessionManager> manager_;
  std::thread thread_;
};

bool same_picture(const PixelBuffer& a, const PixelBuffer& b) {
  return a.width() == b.width() && a.height() == b.height() &&
         std::equal(a.pixels().begin(), a.pixels().end(), b.pixels().begin());
}

TEST_F(SessionManagerTest, Tokens_AreSingleUse) {
  auto& m = manager();
  const auto link = m.create_link(upstream_.url(), true, std::nullopt, false);
  EXPECT_GE(link.token.size(), 22u);  // 128 bits in base64url
  EXPECT_EQ(link.token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos);
  const auto first = m.redeem(link.token);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->session_id, link.session_id);
  EXPECT_TRUE(first->view_only);
  EXPECT_FALSE(m.redeem(link.token)) << "a second redeem of the same token must fail";
  EXPECT_FALSE(m.redeem(""));
  auto near_miss = m.create_link_for(link.session_id, false, std::nullopt).token;
  near_miss.back() = near_miss.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(m.redeem(near_miss));
}

TEST_F(SessionManagerTest, Tokens_Expire) {
  auto& m = manager();
  const auto dead = m.create_link(upstream_.url(), false, 0s, false);
  EXPECT_FALSE(m.redeem(dead.token));
  const auto short_lived = m.create_link(upstream_.url(), false, 1s, false);
  EXPECT_GT(short_lived.expires_unix_ms, unix_now_ms());
  std::this_thread::sleep_for(1100ms);
  m.sweep();
  EXPECT_FALSE(m.redeem(short_lived.token));
  const auto fresh = m.create_link_for(short_lived.session_id, false, 60s);
  EXPECT_TRUE(m.redeem(fresh.token));
}

TEST_F(SessionManagerTest, SameTargetReusesTheSession_RecordFlagSplitsIt) {
  test::TempDir dir("vncgate-gw");
  auto& m = manager({.record_dir = dir.path()});
  std::vector<std::size_t> counts;
  std::mutex counts_mutex;
  m.on_count_changed([&](std::size_t n) {
    std::lock_guard lock(counts_mutex);
    counts.push_back(n);
  });
  const auto a = m.create_link(upstream_.url(), false, std::nullopt, false);
  const auto b = m.create_link(upstream_.url(), true, std::nullopt, false);
  const auto c = m.create_link(upstream_.url(), false, std::nullopt, true);
  EXPECT_EQ(a.session_id, b.session_id);
  EXPECT_NE(a.session_id, c.session_id);
  EXPECT_NE(a.token, b.token);
  EXPECT_EQ(m.count(), 2u);
  ASSERT_TRUE(m.get(c.session_id));
  EXPECT_TRUE(m.get(c.session_id)->recording);
  EXPECT_EQ(m.get(a.session_id)->target_label, upstream_.url());
  EXPECT_TRUE(eventually([&] { return m.get(a.session_id)->state == SessionState::connected; }));
  EXPECT_THROW(m.create_link_for("nope", false, std::nullopt), UsageError);
  EXPECT_EQ(m.list().size(), 2u);
  EXPECT_TRUE(m.close(a.session_id));
  EXPECT_FALSE(m.close(a.session_id));
  EXPECT_FALSE(m.get(a.session_id));
  EXPECT_NE(m.create_link(upstream_.url(), false, std::nullopt, false).session_id, a.session_id);
  EXPECT_EQ(m.close_all(), 2);
  EXPECT_EQ(m.count(), 0u);
  std::lock_guard lock(counts_mutex);
  EXPECT_EQ(counts, (std::vector<std::size_t>{1, 2, 1, 2, 0}));
}

// Sessions share the manager's acquire function: what it captures (a service's whole target table) is not copied
// per session. A copy each made memory grow with sessions x targets (2 400 sessions of 2 400 targets: 1 GB).
TEST_F(SessionManagerTest, SessionsShareTheAcquireFunction_NotACopyEach) {
  struct CopyCounter {
    std::shared_ptr<std::atomic<int>> copies = std::make_shared<std::atomic<int>>(0);
    CopyCounter() = default;
    CopyCounter(const CopyCounter& other) : copies(other.copies) { ++*copies; }
    CopyCounter& operator=(const CopyCounter&) = delete;
  };
  const CopyCounter counter;
  const auto copies = counter.copies;
  AcquireFn acquire = [counter](const std::string& target) -> asio::awaitable<providers::ConsoleEndpoint> {
    providers::ConsoleEndpoint ep;
    ep.endpoint.url = target;
    co_return ep;
  };
  manager_ = std::make_unique<SessionManager>(ctx_.get_executor(), std::move(acquire), ManagerOptions{});
  const int before = *copies;
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) {  // distinct targets, distinct sessions (security None ignores the password)
    const auto url = "vnc://:s" + std::to_string(i) + "@" + upstream_.url().substr(std::string("vnc://").size());
    ids.push_back(manager_->create_link(url, false, std::nullopt, false).session_id);
  }
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 20u);
  EXPECT_TRUE(eventually([&] { return manager_->get(ids.back())->state == SessionState::connected; }));
  EXPECT_EQ(*copies, before) << "copies of the acquire function's captures made for 20 sessions";
  EXPECT_EQ(manager_->close_all(), 20);
}

TEST_F(SessionManagerTest, RecordWithoutDirectory_IsAConfigError) {
  auto& m = manager();
  EXPECT_THROW(m.create_link(upstream_.url(), false, std::nullopt, true), ConfigError);
}

TEST_F(SessionManagerTest, UnwritableRecordDirectory_FailsTheLinkAndLeavesNoSession) {
  auto& m = manager({.record_dir = "/dev/null/not-a-directory"});
  EXPECT_THROW(m.create_link(upstream_.url(), false, std::nullopt, true), IoError);
  EXPECT_EQ(m.count(), 0u);
}

TEST_F(SessionManagerTest, IdleSessionsAreSweptAway) {
  auto& m = manager({.idle_timeout = 1s, .sweep_interval = 1s});
  std::atomic<int> last_count{-1};
  m.on_count_changed([&](std::size_t n) { last_count = static_cast<int>(n); });
  const auto idle = m.create_link(upstream_.url(), false, std::nullopt, false);
  auto other_key = upstream_.url();
  other_key.replace(other_key.find("127.0.0.1"), 9, "localhost");
  const auto watched = m.create_link(other_key, false, std::nullopt, false);
  auto client = viewer(watched.session_id, false);
  EXPECT_TRUE(eventually([&] { return !m.get(idle.session_id); }, 5s));
  EXPECT_TRUE(m.get(watched.session_id)) << "a session with a viewer is not idle";
  // The sweep reports the new count after it has closed what it took out of the list, so a moment later.
  EXPECT_TRUE(eventually([&] { return last_count == 1; }, 5s)) << "last count reported: " << last_count;
}

TEST_F(SessionManagerTest, ViewersSeeTheUpstreamPicture_ViewOnlyInputIsDropped) {
  auto& m = manager();
  const auto link = m.create_link(upstream_.url(), false, std::nullopt, false);
  auto interactive = viewer(link.session_id, false);
  auto watcher = viewer(link.session_id, true);
  EXPECT_TRUE(same_picture(interactive->framebuffer(), upstream_.picture()));
  EXPECT_TRUE(same_picture(watcher->framebuffer(), upstream_.picture()));

  watcher->connection().send_key(0x62, true);  // 'b' from the view-only viewer: must not arrive
  watcher->pump(200ms);
  interactive->connection().send_key(0x61, true);
  interactive->pump(200ms);
  ASSERT_TRUE(eventually([&] { return !upstream_.keys().empty(); }));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(upstream_.keys(), (std::vector<std::uint32_t>{0x61}));
  const auto info = *m.get(link.session_id);
  EXPECT_EQ(info.viewers, 2);
  EXPECT_EQ(info.view_only_viewers, 1);
  EXPECT_EQ(info.dropped_input_events, 1u);
  EXPECT_EQ(info.width, 64);
  EXPECT_GT(info.bytes_to_viewers, 2u * 64 * 48 * 4 / 8);  // two full frames in some encoding
  EXPECT_GT(info.bytes_from_upstream, 0u);
  EXPECT_EQ(upstream_.connections(), 1) << "one upstream connection fans out to every viewer";
  // Same picture, same format and encoding: the second viewer's first frame reused the first one's encoding.
  EXPECT_EQ(info.updates_encoded, 1u);
  EXPECT_GE(info.updates_shared, 1u);
}

TEST_F(SessionManagerTest, IdleSessionHibernates_ANewViewerStillGetsTheWholePicture) {
  ManagerOptions options;
  options.hibernate_after = 150ms;
  auto& m = manager(options);
  const auto link = m.create_link(upstream_.url(), false, std::nullopt, false);
  auto first = viewer(link.session_id, false);
  EXPECT_TRUE(same_picture(first->framebuffer(), upstream_.picture()));
  ASSERT_TRUE(eventually([&] { return m.get(link.session_id)->hibernating; }));
  auto second = viewer(link.session_id, true);  // served from the compressed picture, woken for it
  EXPECT_TRUE(same_picture(second->framebuffer(), upstream_.picture()));
  EXPECT_FALSE(m.get(link.session_id)->hibernating);
  ASSERT_TRUE(eventually([&] { return m.get(link.session_id)->hibernating; })) << "and sleeps again";
  upstream_.drop();  // the held picture survives a reconnect while hibernating
  ASSERT_TRUE(eventually([&] { return upstream_.connections() == 2; }));
  auto third = viewer(link.session_id, true);
  EXPECT_TRUE(same_picture(third->framebuffer(), upstream_.picture()));
}

TEST_F(SessionManagerTest, MalformedViewerIsDropped_OthersLiveOn) {
  auto& m = manager();
  const auto link = m.create_link(upstream_.url(), false, std::nullopt, false);
  auto good = viewer(link.session_id, false);
  // A raw viewer: handshake (3.8, security None, ClientInit), then an unknown message type.
  const int port = viewer_port(link.session_id, false);
  asio::io_context raw_ctx;
  tcp::socket raw(raw_ctx);
  raw.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
  std::vector<std::uint8_t> greeting(12);
  asio::read(raw, asio::buffer(greeting));
  asio::write(raw, asio::buffer(greeting));  // the same version back: 3.8
  std::vector<std::uint8_t> types(2);
  asio::read(raw, asio::buffer(types));
  const std::uint8_t none_and_init[] = {1, 1};
  asio::write(raw, asio::buffer(none_and_init));
  ASSERT_TRUE(eventually([&] { return m.get(link.session_id)->viewers == 2; }));
  const std::uint8_t garbage[] = {99, 1, 2, 3};
  asio::write(raw, asio::buffer(garbage));
  EXPECT_TRUE(eventually([&] { return m.get(link.session_id)->viewers == 1; }));
  good->connection().send_key(0x63, true);
  good->pump(200ms);
  EXPECT_TRUE(eventually([&] { return !upstream_.keys().empty(); }));
  good->full_update(5s);
  EXPECT_TRUE(same_picture(good->framebuffer(), upstream_.picture()));
}

// A viewer that asks for full frames and never reads fills its socket; it must not hold up anyone else,
// and the gateway builds no more than one update for it at a time (bytes sent to it stop growing).
TEST_F(SessionManagerTest, SlowViewerDoesNotSlowTheOthers) {
  auto& m = manager();
  const auto link = m.create_link(upstream_.url(), false, std::nullopt, false);
  const int port = viewer_port(link.session_id, false);
  asio::io_context raw_ctx;
  tcp::socket raw(raw_ctx);
  raw.open(tcp::v4());
  raw.set_option(asio::socket_base::receive_buffer_size(4096));  // a small window: the gateway blocks sooner
  raw.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
  std::vector<std::uint8_t> greeting(12);
  asio::read(raw, asio::buffer(greeting));
  asio::write(raw, asio::buffer(greeting));
  std::vector<std::uint8_t> types(2);
  asio::read(raw, asio::buffer(types));
  const std::vector<std::uint8_t> setup{1, 1, 2, 0, 0, 1, 0, 0, 0, 0};  // None, ClientInit, SetEncodings [Raw]
  asio::write(raw, asio::buffer(setup));
  // 1500 full-frame requests (12 KB each in Raw) over 1.5 s: far more than loopback buffers hold.
  const std::vector<std::uint8_t> request{3, 0, 0, 0, 0, 0, 0, 64, 0, 48};
  for (int i = 0; i < 1500; ++i) {
    asio::write(raw, asio::buffer(request));
    std::this_thread::sleep_for(1ms);
  }
  std::uint64_t stalled = 0;
  ASSERT_TRUE(eventually([&] {
    const auto before = m.get(link.session_id)->bytes_to_viewers;
    std::this_thread::sleep_for(300ms);
    stalled = m.get(link.session_id)->bytes_to_viewers;
    return stalled == before;
  })) << "the gateway kept writing to a viewer that does not read";
  EXPECT_LT(stalled, 1500u * 12288 / 2) << "writes to the stuck viewer should have blocked long before";
  std::printf("stuck viewer: %llu bytes written before the socket filled\n", static_cast<unsigned long long>(stalled));

  auto fast = viewer(link.session_id, false);
  for (int i = 0; i < 5; ++i) {
    const auto start = std::chrono::steady_clock::now();
    fast->full_update(2s);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  }
  EXPECT_TRUE(same_picture(fast->framebuffer(), upstream_.picture()));
  // Only the fast viewer's frames were added: 3000 queued requests would be ~37 MB.
  EXPECT_LT(m.get(link.session_id)->bytes_to_viewers - stalled, 1'000'000u);
  EXPECT_EQ(m.get(link.session_id)->viewers, 2);
}

TEST_F(SessionManagerTest, UpstreamDrop_ReconnectsWhileViewersStay) {
  auto& m = manager();
  const auto link = m.create_link(upstream_.url(), false, std::nullopt, false);
  auto client = viewer(link.session_id, false);
  upstream_.drop();
  EXPECT_TRUE(eventually([&] { return m.get(link.session_id)->upstream_connections == 2; }));
  EXPECT_TRUE(eventually([&] { return m.get(link.session_id)->state == SessionState::connected; }));
  client->full_update(5s);  // the viewer never noticed
  EXPECT_TRUE(same_picture(client->framebuffer(), upstream_.picture()));
  EXPECT_EQ(upstream_.connections(), 2);
}

TEST_F(SessionManagerTest, ClosingTheSessionClosesItsViewers) {
  auto& m = manager();
  const auto link = m.create_link(upstream_.url(), false, std::nullopt, false);
  auto client = viewer(link.session_id, false);
  EXPECT_TRUE(m.close(link.session_id));
  EXPECT_THROW(
      {
        for (int i = 0; i < 50; ++i) client->pump(100ms);
      },
      IoError);
}

}  // namespace
}  // namespace vncgate::gateway
