// SPDX-License-Identifier: Apache-2.0
#include "support/postgres.hpp"

#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <thread>

namespace vncgate::test {
namespace fs = std::filesystem;

std::string postgres_bin_dir() {
  if (const char* dir = std::getenv("VNCGATE_PG_BIN")) return dir;
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    if (fs::exists(entry.path() / "bin" / "postgres")) found.push_back((entry.path() / "bin").string());
  }
  // Newest major version: "15" > "9.6" compares wrong as text, so by number.
  std::sort(found.begin(), found.end(), [](const std::string& a, const std::string& b) {
    auto version = [](const std::string& p) { return std::atof(fs::path(p).parent_path().filename().c_str()); };
    return version(a) < version(b);
  });
  return found.empty() ? "" : found.back();
}

PostgresServer::PostgresServer() : bin_(postgres_bin_dir()), root_(::geteuid() == 0) {
  if (bin_.empty()) throw std::runtime_error("PostgreSQL: no /usr/lib/postgresql/*/bin (install postgresql)");
  data_ = dir_.file("data");
  log_ = dir_.file("postgres.log");
  if (root_) {
    const passwd* owner = ::getpwnam("postgres");
    if (!owner) throw std::runtime_error("PostgreSQL: running as root needs the postgres system user");
    if (::chown(dir_.path().c_str(), owner->pw_uid, owner->pw_gid) != 0)
      throw std::runtime_error("PostgreSQL: cannot hand " + dir_.path() + " to the postgres user");
  }
  const int code = run_command(
      as_owner({bin_ + "/initdb", "-D", data_, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"}),
      dir_.file("initdb.log"), std::chrono::seconds(120));
  if (code != 0) throw std::runtime_error("initdb failed: " + read_file(dir_.file("initdb.log")));
  port_ = free_port();
  start();
}

PostgresServer::~PostgresServer() { stop(); }

std::vector<std::string> PostgresServer::as_owner(std::vector<std::string> argv) const {
  if (!root_) return argv;
  // setpriv again after the uid change: a credential change clears the parent-death signal Process set.
  std::vector<std::string> full = {"/usr/bin/setpriv", "--pdeathsig",    "KILL", "--reuid=postgres",
                                   "--regid=postgres", "--clear-groups", "--"};
  full.insert(full.end(), argv.begin(), argv.end());
  return full;
}

void PostgresServer::start() {
  process_ = Process(as_owner({bin_ + "/postgres", "-D", data_, "-k", dir_.path(), "-p", std::to_string(port_), "-c",
                               "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=300"}),
                     log_);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (run_command({bin_ + "/pg_isready", "-q", "-h", "127.0.0.1", "-p", std::to_string(port_), "-t", "1"}, "",
                     std::chrono::seconds(5)) != 0) {
    if (!process_.running()) throw std::runtime_error("PostgreSQL exited: " + process_.log_tail());
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("PostgreSQL not ready after 60 s: " + process_.log_tail());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void PostgresServer::stop() {
  if (!process_.running()) return;
  ::kill(process_.pid(), SIGINT);  // fast shutdown (SIGTERM would wait for every client to leave)
  if (process_.wait(std::chrono::seconds(30)) < 0) process_.stop();
}

std::string PostgresServer::url(const std::string& database) const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

std::string PostgresServer::create_database() {
  const auto name = "vncgate_" + std::to_string(++databases_);
  psql("CREATE DATABASE " + name);
  return url(name);
}

std::string PostgresServer::psql(const std::string& sql, const std::string& database) {
  const auto out = dir_.file("psql.out"), log = dir_.file("psql.log");
  fs::remove(out);
  fs::remove(log);
  const int code = run_command({bin_ + "/psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                                "-p", std::to_string(port_), "-U", "postgres", "-d", database, "-o", out, "-c", sql},
                               log, std::chrono::seconds(60));
  EXPECT_EQ(code, 0) << "psql " << sql << ": " << read_file(log);
  auto text = read_file(out);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

}  // namespace vncgate::test
