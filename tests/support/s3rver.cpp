// SPDX-License-Identifier: Apache-2.0
#include "support/s3rver.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace vncgate::test {

std::string storage_node_dir() {
  if (const char* dir = std::getenv("VNCGATE_STORAGE_NODE_DIR")) return dir;
  return VNCGATE_STORAGE_NODE_DIR;
}

S3rver::S3rver(const std::string& data_dir, const std::string& log_file) : port_(free_port()) {
  std::filesystem::create_directories(data_dir);
  process_ = Process({storage_node_dir() + "/node_modules/.bin/s3rver", "-d", data_dir, "-a", "127.0.0.1", "-p",
                      std::to_string(port_), "--no-vhost-buckets"},
                     log_file);
  if (!wait_for_port(port_, std::chrono::seconds(20))) throw std::runtime_error("s3rver: " + process_.log_tail());
}

std::map<std::string, std::string> read_with_minio(const std::string& work_dir, int port, const std::string& bucket) {
  const std::string out = work_dir + "/minio.out", err = work_dir + "/minio.err";
  std::filesystem::remove(out);  // run_command appends
  // stdout alone (the JSON); node's warnings go to their own file.
  const int code = run_command({"sh", "-c", "exec node \"$@\" 2>\"$0\"", err, storage_node_dir() + "/minio_reader.js",
                                std::to_string(port), bucket},
                               out, std::chrono::seconds(60));
  EXPECT_EQ(code, 0) << read_file(err);
  std::map<std::string, std::string> seen;
  if (code != 0) return seen;
  for (const auto& o : nlohmann::json::parse(read_file(out))) seen[o.at("key")] = o.at("sha256");
  return seen;
}

}  // namespace vncgate::test
