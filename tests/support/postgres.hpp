// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <vector>

#include "support/process.hpp"

namespace vncgate::test {

// The PostgreSQL programs (initdb, postgres, psql): $VNCGATE_PG_BIN, else the newest /usr/lib/postgresql/*/bin
// (Debian's postgresql package). "" when there is none.
std::string postgres_bin_dir();

// A real PostgreSQL server of its own: initdb into a temp dir, the postmaster on a free 127.0.0.1 port with
// its socket in that dir, trust authentication, user `postgres`. Stopped by PID (fast shutdown, SIGINT) and
// restartable on the same port and data. As root it runs as the `postgres` system user (the server refuses
// root). fsync is off: tests restart it cleanly, they never pull the plug on the machine.
class PostgresServer {
 public:
  PostgresServer();  // throws std::runtime_error when it cannot start
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  int port() const { return port_; }
  // postgresql://postgres@127.0.0.1:PORT/DATABASE
  std::string url(const std::string& database = "postgres") const;
  // A new empty database (vncgate_1, vncgate_2, …); returns its URL.
  std::string create_database();
  // Runs `sql` with psql in `database`; returns its unaligned output. Fails the test when psql fails.
  std::string psql(const std::string& sql, const std::string& database = "postgres");

  void stop();   // fast shutdown: open sessions are ended, then the postmaster exits
  void start();  // again, same port and data; returns once it accepts connections
  const std::string& log_file() const { return log_; }

 private:
  // argv prefix that runs a program as the data directory's owner.
  std::vector<std::string> as_owner(std::vector<std::string> argv) const;

  TempDir dir_{"vncgate-pg"};
  std::string bin_, data_, log_;
  int port_ = 0;
  int databases_ = 0;
  bool root_ = false;
  Process process_;
};

}  // namespace vncgate::test
