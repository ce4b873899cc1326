// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "support/process.hpp"

namespace vncgate::test {

// tests/storage (s3rver, the minio client and its scripts): $VNCGATE_STORAGE_NODE_DIR, else the compile-time path.
std::string storage_node_dir();

// s3rver (npm) on a free loopback port, keeping its objects in `data_dir` (access key and secret: S3RVER). It
// does not verify signatures: see tests/storage/sigv4_test.cpp for those.
class S3rver {
 public:
  S3rver(const std::string& data_dir, const std::string& log_file);
  int port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  int port_;
  Process process_;
};

// {key -> sha256} of everything in `bucket` on 127.0.0.1:`port`, as the minio npm client lists and downloads it
// (an independent reader); files for its output go to `work_dir`. Fails the test when the client fails.
std::map<std::string, std::string> read_with_minio(const std::string& work_dir, int port, const std::string& bucket);

}  // namespace vncgate::test
