// SPDX-License-Identifier: Apache-2.0
// A hostile "console" attacked back through a live `vncgate serve`: its text (an RFB failure reason with line
// breaks) must neither forge log lines nor come back through the API (a banner grab of whatever listens there).
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <functional>
#include <thread>

#include "service_fixture.hpp"

namespace vncgate::test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

std::string u32_text(std::uint32_t n) {
  std::string out;
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((n >> shift) & 0xff);
  return out;
}

// A hostile console on 127.0.0.1: `serve` plays the server side of each connection (on the accept thread); the
// connections stay open until the console is destroyed.
class HostileConsole {
 public:
  using Serve = std::function<void(asio::ip::tcp::socket&)>;
  explicit HostileConsole(Serve serve)
      : serve_(std::move(serve)), acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this] {
      while (!stop_) {
        auto socket = std::make_unique<asio::ip::tcp::socket>(io_);
        boost::system::error_code ec;
        acceptor_.accept(*socket, ec);
        if (ec || stop_) break;
        try {
          serve_(*socket);
        } catch (const std::exception&) {
        }
        open_.push_back(std::move(socket));
      }
    });
  }
  ~HostileConsole() {
    stop_ = true;
    boost::system::error_code ec;
    asio::ip::tcp::socket poke(io_);
    poke.connect(acceptor_.local_endpoint(), ec);
    thread_.join();
  }
  std::string url() const { return "vnc://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()); }

  // RFB 3.8 up to the security types: none, with `reason`.
  static Serve refusing(std::string reason) {
    return [reason](asio::ip::tcp::socket& socket) {
      std::string version(12, '\0');
      asio::write(socket, asio::buffer(std::string("RFB 003.008\n")));
      asio::read(socket, asio::buffer(version));
      asio::write(socket,
                  asio::buffer(std::string(1, '\0') + u32_text(static_cast<std::uint32_t>(reason.size())) + reason));
    };
  }
  // A whole RFB 3.8 handshake (security None) announcing a `width`x`height` screen, then silence.
  static Serve claiming(int width, int height) {
    return [width, height](asio::ip::tcp::socket& socket) {
      std::string version(12, '\0'), one(1, '\0');
      asio::write(socket, asio::buffer(std::string("RFB 003.008\n")));
      asio::read(socket, asio::buffer(version));
      asio::write(socket, asio::buffer(std::string("\x01\x01", 2)));  // one type: None
      asio::read(socket, asio::buffer(one));
      asio::write(socket, asio::buffer(u32_text(0)));  // security result: OK
      asio::read(socket, asio::buffer(one));           // ClientInit
      std::string init;
      init += static_cast<char>(width >> 8);
      init += static_cast<char>(width & 0xff);
      init += static_cast<char>(height >> 8);
      init += static_cast<char>(height & 0xff);
      // 32 bpp, depth 24, little-endian, true colour, 255/255/255, shifts 16/8/0, padding.
      init += std::string("\x20\x18\x00\x01\x00\xff\x00\xff\x00\xff\x10\x08\x00\x00\x00\x00", 16);
      init += u32_text(4) + "huge";
      asio::write(socket, asio::buffer(init));
    };
  }

 private:
  Serve serve_;
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::atomic<bool> stop_{false};
  std::vector<std::unique_ptr<asio::ip::tcp::socket>> open_;
  std::thread thread_;
};

// Resident memory of `pid` in MiB (VmRSS).
long rss_mib(pid_t pid) {
  const auto status = read_file("/proc/" + std::to_string(pid) + "/status");
  const auto at = status.find("VmRSS:");
  return at == std::string::npos ? -1 : std::stol(status.substr(at + 6)) / 1024;
}

TEST(HostileUpstream, ItsTextNeitherForgesLogLinesNorReachesTheApi) {
  HostileConsole console(HostileConsole::refusing(
      "go away\n2030-01-01T00:00:00.000 info FORGED: admin approved job\r\nSSH-2.0-OpenSSH_9.2"));
  TempDir dir("vncgate-security-upstream");
  ServeProcess serve(ServeOptions{.data_dir = dir.path(), .extra_args = {"--set", "recording.connect_grace_s=0"}});
  serve.start();
  const std::string url = console.url();
  const auto job =
      serve.json("POST", "/record", R"({"server":")" + url + R"(","provider":"direct","duration":1,"count":1})", 202);
  const auto ended = serve.wait_state(job.at("job_id"), "failed", 30s);
  const auto error = ended.value("failure_reason", "");
  EXPECT_FALSE(error.empty()) << ended.dump();
  EXPECT_EQ(error.find("FORGED"), std::string::npos) << "the upstream's text stays out of the API: " << error;
  EXPECT_EQ(error.find("SSH-2.0"), std::string::npos) << error;

  const auto log = read_file(dir.file("serve-1.log"));
  EXPECT_NE(log.find("FORGED"), std::string::npos) << "the details are in the log";
  EXPECT_EQ(log.find("\n2030-01-01"), std::string::npos) << "no forged line:\n" << log;
  EXPECT_EQ(log.find("\r"), std::string::npos) << "no raw carriage return";
  EXPECT_NE(log.find("go away\\n2030-01-01"), std::string::npos) << "escaped instead:\n" << log;
}

// Five sessions to a server claiming 16384x4096 once held 1.69 GB: sizes are capped, and all sessions' pictures
// share one memory budget.
TEST(HostileUpstream, HugeScreensAreRefusedAndPicturesShareABudget) {
  TempDir dir("vncgate-security-huge");
  ServeProcess serve(ServeOptions{.data_dir = dir.path(), .extra_args = {"--set", "gateway.picture_memory=100MiB"}});
  serve.start();
  std::vector<std::unique_ptr<HostileConsole>> huge;
  std::vector<std::string> huge_ids;
  for (int i = 0; i < 5; ++i) {
    huge.push_back(std::make_unique<HostileConsole>(HostileConsole::claiming(16384, 4096)));
    huge_ids.push_back(serve.json("POST", "/api/v1/sessions", R"({"target":")" + huge.back()->url() + R"("})", 201)
                           .at("session_id")
                           .get<std::string>());
  }
  HostileConsole big_a(HostileConsole::claiming(4000, 3000)), big_b(HostileConsole::claiming(4000, 3000));
  const std::string a =
      serve.json("POST", "/api/v1/sessions", R"({"target":")" + big_a.url() + R"("})", 201).at("session_id");
  std::this_thread::sleep_for(1s);  // a connects first
  const std::string b =
      serve.json("POST", "/api/v1/sessions", R"({"target":")" + big_b.url() + R"("})", 201).at("session_id");

  auto state = [&](const std::string& id) {
    auto r = serve.request("GET", "/api/v1/sessions/" + id);
    return r.status == 404 ? std::string("closed") : nlohmann::json::parse(r.body).value("state", "");
  };
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  auto settled = [&] {
    for (const auto& id : huge_ids)
      if (state(id) != "closed") return false;
    return state(a) == "connected" && state(b) == "closed";
  };
  while (!settled() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(200ms);
  for (const auto& id : huge_ids) EXPECT_EQ(state(id), "closed") << "16384x4096 is over the size cap";
  EXPECT_EQ(state(a), "connected") << "12 Mpx (60 MB) fits the 100 MiB budget";
  EXPECT_EQ(state(b), "closed") << "a second one does not";
  EXPECT_LT(rss_mib(serve.pid()), 400) << "resident MiB";
  const auto log = read_file(dir.file("serve-1.log"));
  EXPECT_NE(log.find("too large"), std::string::npos) << log;
  EXPECT_NE(log.find("picture memory budget"), std::string::npos) << log;
}

}  // namespace
}  // namespace vncgate::test
