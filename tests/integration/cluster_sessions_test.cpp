// SPDX-License-Identifier: Apache-2.0
// Console sessions across nodes (issue 16): three `vncgate serve` share a real PostgreSQL, nginx (Debian) sends
// requests to them round-robin. A console link works whichever node redeems it (the raw WebSocket through nginx
// shows the same pixels as the X server's own framebuffer, `xwd -root`); the list through any node shows every
// session; DELETE through any node closes it; the internal endpoint that forwarded viewers use refuses anything
// without a valid, fresh, unused ticket; kill -9 of a session's owner ends its sessions and the target opens
// again on another node.
#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <filesystem>
#include <set>
#include <sstream>
#include <thread>

#include "rfb/blocking_client.hpp"
#include "service/cluster_ticket.hpp"
#include "service_fixture.hpp"
#include "support/browser.hpp"
#include "support/image.hpp"
#include "support/nginx.hpp"
#include "support/postgres.hpp"
#include "support/xvnc.hpp"

namespace vncgate::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr int kNodes = 3;
constexpr int kNodeTimeoutS = 4;
const std::string kSecret = "cluster-test-secret-0123456789abcdef";

class ClusterSessionsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    postgres_ = new PostgresServer();
    const auto db = postgres_->create_database();
    database_ = new std::string(db.substr(db.rfind('/') + 1));
    console_ = new XvncServer(XvncOptions{.width = 640, .height = 480});
    xterm_ = new Process(start_colour_xterm(*console_));
    dir_ = new TempDir("vncgate-cluster");
    std::vector<int> ports;
    for (int i = 0; i < kNodes; ++i) ports.push_back(free_port());
    nginx_ = new NginxProxy(ports);
    for (int i = 0; i < kNodes; ++i) {
      const auto name = "node-" + std::to_string(i + 1);
      std::filesystem::create_directories(dir_->file(name));
      const auto self = "http://127.0.0.1:" + std::to_string(ports[i]);
      nodes_[i] = new ServeProcess(ServeOptions{
          .data_dir = dir_->file(name),
          .storage_url = "file://" + dir_->file("recordings"),
          .targets = {"demo=" + console_->vnc_url()},
          .extra_args = {"--role", "api", "--set", "jobs.url=" + db, "--set", "cluster.advertise_url=" + self, "--set",
                         "cluster.secret=" + kSecret, "--set", "cluster.node_id=" + name, "--set",
                         "cluster.node_timeout_s=" + std::to_string(kNodeTimeoutS), "--set",
                         "server.public_url=" + nginx_->url()},
          .port = ports[i]});
      nodes_[i]->start();
    }
  }
  static void TearDownTestSuite() {
    for (auto*& node : nodes_) delete std::exchange(node, nullptr);
    delete nginx_;
    delete dir_;
    delete xterm_;
    delete console_;
    delete database_;
    delete postgres_;
  }

  // A request through nginx.
  static http::Response via_balancer(const std::string& method, const std::string& path, const std::string& body = {}) {
    http::Request r;
    r.method = method;
    r.url = nginx_->url(path);
    r.body = body;
    if (!body.empty()) r.headers.emplace_back("Content-Type", "application/json");
    r.timeout = 20s;
    return http::send_blocking(r);
  }
  static json json_via_balancer(const std::string& method, const std::string& path, const std::string& body,
                                int expected) {
    auto response = via_balancer(method, path, body);
    EXPECT_EQ(response.status, expected) << method << " " << path << ": " << response.body;
    return json::parse(response.body, nullptr, false);
  }
  static std::string token_of(const json& link) {
    const auto url = link.at("url").get<std::string>();
    return url.substr(url.rfind('/') + 1);
  }
  // Session ids listed by one node.
  static std::set<std::string> listed_by(int node) {
    std::set<std::string> ids;
    const auto listed =
        nodes_[node]->json("GET", "/api/v1/sessions");  // named: a loop over a temporary's member dangles
    for (const auto& s : listed.at("sessions")) ids.insert(s.at("session_id"));
    return ids;
  }
  // Both pictures without the bottom-right corner, where hide_pointer parks the X pointer: xwd never shows it,
  // while the gateway's picture may (a console detail, not what these tests are about).
  static std::string diff_without_pointer(PixelBuffer expected, PixelBuffer actual) {
    if (expected.width() != actual.width() || expected.height() != actual.height())
      return diff_summary(expected, actual);
    const framebuffer::Rect corner{expected.width() - 16, expected.height() - 16, 16, 16};
    expected.fill(corner, 0);
    actual.fill(corner, 0);
    return diff_summary(expected, actual);
  }
  // A viewer through nginx whose picture converges to the X server's own (xwd -root); "" on a match.
  static std::string view_through_balancer(const std::string& token) {
    rfb::BlockingClient viewer(io::Endpoint{.url = "ws://127.0.0.1:" + std::to_string(nginx_->port()) + "/ws/" + token},
                               rfb::ClientOptions{}, 20s);
    std::string diff = "no update";
    for (int i = 0; i < 20; ++i, std::this_thread::sleep_for(200ms)) {
      viewer.full_update(10s);
      if ((diff = diff_without_pointer(console_->xwd_root(), viewer.framebuffer())).empty()) break;
    }
    return diff;
  }
  static int owner_index(const std::string& session_id) {
    const auto owner =
        postgres_->psql("SELECT node_id FROM console_sessions WHERE session_id = '" + session_id + "'", *database_);
    for (int i = 0; i < kNodes; ++i)
      if (owner == "node-" + std::to_string(i + 1)) return i;
    return -1;
  }

  static inline PostgresServer* postgres_ = nullptr;
  static inline std::string* database_ = nullptr;
  static inline XvncServer* console_ = nullptr;
  static inline Process* xterm_ = nullptr;
  static inline TempDir* dir_ = nullptr;
  static inline NginxProxy* nginx_ = nullptr;
  static inline ServeProcess* nodes_[kNodes] = {};
};

TEST_F(ClusterSessionsTest, LinksWorkWhicheverNodeGetsThem_TheListThroughAnyNodeShowsAll) {
  auto created = json_via_balancer("POST", "/api/v1/sessions", R"({"target": "demo"})", 201);
  const std::string id = created.at("session_id");
  // One session per target cluster-wide, whichever node is asked.
  for (int i = 0; i < kNodes; ++i)
    EXPECT_EQ(nodes_[i]->json("POST", "/api/v1/sessions", R"({"target": "demo"})", 201).at("session_id"), id);
  EXPECT_EQ(postgres_->psql("SELECT count(*) FROM console_sessions", *database_), "1");
  // Links are stored as SHA-256 digests only.
  EXPECT_EQ(postgres_->psql("SELECT count(*) FROM console_links WHERE token_sha256 = decode(encode(sha256('" +
                                token_of(created) + "'), 'hex'), 'hex')",
                            *database_),
            "1");

  // Link, then WebSocket: with three nodes round-robin the WebSockets land on every node in turn.
  EXPECT_EQ(view_through_balancer(token_of(created)), "") << "first viewer vs xwd -root";
  for (int i = 0; i < kNodes + 1; ++i) {
    auto link = json_via_balancer("POST", "/api/v1/sessions/" + id + "/links", "", 201);
    EXPECT_EQ(view_through_balancer(token_of(link)), "") << "viewer " << i + 2 << " vs xwd -root";
  }
  std::this_thread::sleep_for(300ms);  // nginx logs a WebSocket when it has closed
  std::set<std::string> ws_upstreams;
  std::istringstream log(nginx_->access_log());
  for (std::string method, uri, upstream, status; log >> method >> uri >> upstream >> status;)
    if (uri.rfind("/ws/", 0) == 0 && status == "101") ws_upstreams.insert(upstream);
  EXPECT_EQ(ws_upstreams.size(), static_cast<std::size_t>(kNodes)) << nginx_->access_log();

  // A token is single use cluster-wide: redeemed once, refused by every node afterwards.
  auto once = json_via_balancer("POST", "/api/v1/sessions/" + id + "/links", "", 201);
  EXPECT_EQ(view_through_balancer(token_of(once)), "");
  for (int i = 0; i < kNodes; ++i)
    EXPECT_EQ(upgrade_status(nodes_[i]->port(), "/ws/" + token_of(once), ""), "410") << "node " << i + 1;

  // The list through any node shows the session, with its owner and the owner's figures.
  const int owner = owner_index(id);
  ASSERT_GE(owner, 0);
  std::this_thread::sleep_for(1500ms);  // a heartbeat publishes the owner's figures
  for (int i = 0; i < kNodes; ++i) {
    auto listed = nodes_[i]->json("GET", "/api/v1/sessions").at("sessions");
    ASSERT_EQ(listed.size(), 1u) << "node " << i + 1 << ": " << listed.dump();
    EXPECT_EQ(listed[0].at("session_id"), id);
    EXPECT_EQ(listed[0].at("node"), "node-" + std::to_string(owner + 1));
    EXPECT_EQ(listed[0].at("width"), 640);
    EXPECT_GE(listed[0].at("total_connections").get<int>(), kNodes + 2) << listed.dump();
    EXPECT_EQ(nodes_[i]->json("GET", "/api/v1/sessions/" + id).at("session_id"), id);
  }
}

// Chromium opens the console page through nginx: the page comes from one node, its WebSocket goes to the next
// (round robin), and the canvas shows the X server's framebuffer whichever node holds the session.
TEST_F(ClusterSessionsTest, ChromiumThroughTheBalancerShowsTheConsole) {
  auto created = json_via_balancer("POST", "/api/v1/sessions", R"({"target": "demo"})", 201);
  const std::string id = created.at("session_id");
  for (int i = 0; i < kNodes; ++i) {
    auto link = i == 0 ? created : json_via_balancer("POST", "/api/v1/sessions/" + id + "/links", "", 201);
    const auto url = link.at("url").get<std::string>();
    ASSERT_EQ(url.rfind(nginx_->url("/console/"), 0), 0u) << url;
    const auto png = dir_->file("canvas-" + std::to_string(i) + ".png");
    const auto r = run_browser_check("console_check.mjs", {"--url", url, "--out", png}, dir_->path());
    ASSERT_EQ(r.exit_code, kBrowserOk) << r.log;
    // noVNC asks for Tight with JPEG: the colour xterm's antialiased text comes lossy, so a PSNR bound (a black
    // or wrong canvas scores about 10 dB).
    const auto root = console_->xwd_root();
    const double db = psnr(root, load_png(png), framebuffer::Rect{0, 0, root.width(), root.height() - 16});
    std::cout << "[cluster] canvas " << i + 1 << " vs xwd -root: " << db << " dB PSNR\n";
    EXPECT_GE(db, 30.0) << "canvas " << i + 1 << " vs xwd -root";
  }
}

TEST_F(ClusterSessionsTest, DeleteThroughAnotherNodeClosesTheSessionAndItsForwardedViewers) {
  auto created = json_via_balancer("POST", "/api/v1/sessions", R"({"target": "demo"})", 201);
  const std::string id = created.at("session_id");
  const int owner = owner_index(id);
  ASSERT_GE(owner, 0);
  const int other = (owner + 1) % kNodes;
  const int entry = (owner + 2) % kNodes;
  // A viewer that enters at `entry` and is forwarded to the owner.
  auto link = nodes_[other]->json("POST", "/api/v1/sessions/" + id + "/links", "", 201);
  rfb::BlockingClient viewer(
      io::Endpoint{.url = "ws://127.0.0.1:" + std::to_string(nodes_[entry]->port()) + "/ws/" + token_of(link)},
      rfb::ClientOptions{}, 20s);
  viewer.full_update(10s);
  EXPECT_EQ(diff_without_pointer(console_->xwd_root(), viewer.framebuffer()), "");

  EXPECT_EQ(nodes_[other]->request("DELETE", "/api/v1/sessions/" + id).status, 204);
  EXPECT_EQ(nodes_[entry]->request("DELETE", "/api/v1/sessions/" + id).status, 404) << "closed once";
  for (int i = 0; i < kNodes; ++i) EXPECT_TRUE(listed_by(i).empty()) << "node " << i + 1;
  // The owner closes it (NOTIFY, at worst its next heartbeat): the forwarded viewer's connection ends.
  bool ended = false;
  for (int i = 0; i < 50 && !ended; ++i) {
    try {
      viewer.pump(100ms);
    } catch (const std::exception&) {
      ended = true;
    }
  }
  EXPECT_TRUE(ended) << "the viewer forwarded through node " << entry + 1 << " still runs";
  EXPECT_EQ(postgres_->psql("SELECT count(*) FROM console_links", *database_), "0") << "links went with it";
}

TEST_F(ClusterSessionsTest, InternalEndpointRefusesAnythingButAFreshUnusedTicketForThatSession) {
  auto created = json_via_balancer("POST", "/api/v1/sessions", R"({"target": "demo"})", 201);
  const std::string id = created.at("session_id");
  const int owner = owner_index(id);
  ASSERT_GE(owner, 0);
  const int port = nodes_[owner]->port();
  const auto path = "/internal/v1/sessions/" + id + "/viewer";
  const auto ticket_header = [](const std::string& ticket) { return "X-Vncgate-Ticket: " + ticket + "\r\n"; };
  service::ClusterTicket tickets(kSecret);
  service::ClusterTicket forger("not-the-cluster-secret-0123456789abcdef");
  service::ClusterTicket stale(kSecret, -1s);

  EXPECT_EQ(upgrade_status(port, path, ""), "403") << "no ticket";
  EXPECT_EQ(upgrade_status(port, path, ticket_header("v1.1.2.3.4")), "403") << "garbage";
  EXPECT_EQ(upgrade_status(port, path, ticket_header(forger.issue(id, false))), "403") << "another secret";
  EXPECT_EQ(upgrade_status(port, path, ticket_header(stale.issue(id, false))), "403") << "expired";
  EXPECT_EQ(upgrade_status(port, path, ticket_header(tickets.issue("AAAAAAAAAAAA", false))), "403")
      << "a ticket for another session";
  // Tampering: view-only ticket turned interactive.
  auto view_only = tickets.issue(id, true);
  view_only[view_only.size() - 66] = '0';
  EXPECT_EQ(upgrade_status(port, path, ticket_header(view_only)), "403") << "flag changed";
  // A valid ticket opens once; the same ticket again (a replay) is refused.
  const auto valid = tickets.issue(id, false);
  EXPECT_EQ(upgrade_status(port, path, ticket_header(valid)), "101");
  EXPECT_EQ(upgrade_status(port, path, ticket_header(valid)), "403") << "replayed";
  // A plain request, and the endpoint through the balancer without a ticket.
  EXPECT_EQ(nodes_[owner]->request("GET", path).status, 426);
  EXPECT_EQ(upgrade_status(nginx_->port(), path, ""), "403");
  EXPECT_EQ(nodes_[owner]->request("DELETE", "/api/v1/sessions/" + id).status, 204);
}

TEST_F(ClusterSessionsTest, KillNineOfTheOwner_ItsSessionsEndAndTheTargetOpensElsewhere) {
  auto created = json_via_balancer("POST", "/api/v1/sessions", R"({"target": "demo"})", 201);
  const std::string id = created.at("session_id");
  const int owner = owner_index(id);
  ASSERT_GE(owner, 0);
  const int survivor = (owner + 1) % kNodes;
  ASSERT_EQ(listed_by(survivor), std::set<std::string>{id})
      << nodes_[survivor]->request("GET", "/api/v1/sessions").body;
  nodes_[owner]->kill9();
  const auto killed = std::chrono::steady_clock::now();
  while (!listed_by(survivor).empty() && std::chrono::steady_clock::now() - killed < 20s)
    std::this_thread::sleep_for(200ms);
  const double gone = std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count();
  EXPECT_TRUE(listed_by(survivor).empty());
  std::cout << "[cluster] session of the killed node gone from the list after " << gone << " s (node timeout "
            << kNodeTimeoutS << " s)\n";
  EXPECT_LT(gone, kNodeTimeoutS + 3.0);
  EXPECT_EQ(upgrade_status(nodes_[survivor]->port(), "/ws/" + token_of(created), ""), "410") << "its links ended";

  // The target opens again on a live node; its links work through the balancer (nginx skips the dead node).
  auto again = json_via_balancer("POST", "/api/v1/sessions", R"({"target": "demo"})", 201);
  EXPECT_NE(again.at("session_id"), id);
  const int new_owner = owner_index(again.at("session_id"));
  EXPECT_GE(new_owner, 0);
  EXPECT_NE(new_owner, owner);
  EXPECT_EQ(view_through_balancer(token_of(again)), "");
  for (int i = 0; i < 2; ++i) {
    auto link =
        json_via_balancer("POST", "/api/v1/sessions/" + again.at("session_id").get<std::string>() + "/links", "", 201);
    EXPECT_EQ(view_through_balancer(token_of(link)), "");
  }
}

}  // namespace
}  // namespace vncgate::test
