// SPDX-License-Identifier: Apache-2.0
// SIGHUP's reload: log.level applies at once, other changes are named for a restart, a bad file changes nothing.
#include "config/config_reload.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "support/process.hpp"
#include "util/log.hpp"

namespace vncgate::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class ConfigReload : public testing::Test {
 protected:
  void SetUp() override {
    test::write_file(file(), "[server]\nport = 8100\n[log]\nlevel = \"info\"\n");
    sources_.file = file();
    sources_.use_env({{"VNCGATE_JOBS_MAX_CONCURRENT", "3"}});
    sources_.overrides = {{"targets.demo", "vnc://127.0.0.1:5990"}};
    log::set_level("info");
  }
  void TearDown() override { log::set_level("info"); }
  std::string file() const { return dir_.file("vncgate.toml"); }

  test::TempDir dir_{"vncgate-reload"};
  Sources sources_;
};

TEST_F(ConfigReload, LogLevelAppliesAtOnce) {
  ConfigReloader reloader(sources_, load(sources_));
  test::write_file(file(), "[server]\nport = 8100\n[log]\nlevel = \"debug\"\n");
  const auto out = reloader.reload();
  EXPECT_TRUE(out.loaded) << out.error;
  EXPECT_TRUE(out.log_level_changed);
  EXPECT_THAT(out.needs_restart, IsEmpty());
  EXPECT_EQ(spdlog::get_level(), spdlog::level::debug);
  // The same file again: nothing changed.
  const auto again = reloader.reload();
  EXPECT_FALSE(again.log_level_changed);
  EXPECT_THAT(again.needs_restart, IsEmpty());
}

TEST_F(ConfigReload, OtherChangesWaitForARestart) {
  ConfigReloader reloader(sources_, load(sources_));
  test::write_file(file(),
                   "[server]\nport = 8101\n[targets]\nlab = \"vnc://127.0.0.1:5991\"\n[log]\nlevel = \"info\"\n");
  const auto out = reloader.reload();
  EXPECT_TRUE(out.loaded) << out.error;
  EXPECT_FALSE(out.log_level_changed);
  EXPECT_THAT(out.needs_restart, ElementsAre("[server]", "[targets]"));
  // The environment and the flags are read again too: the flag's target and the variable stay as they were.
  EXPECT_EQ(spdlog::get_level(), spdlog::level::info);
}

TEST_F(ConfigReload, ABadFileIsRefusedAndChangesNothing) {
  ConfigReloader reloader(sources_, load(sources_));
  test::write_file(file(), "[server]\nport = \"x\"\n[log]\nlevel = \"debug\"\n");
  const auto out = reloader.reload();
  EXPECT_FALSE(out.loaded);
  EXPECT_THAT(out.error, HasSubstr("server.port"));
  EXPECT_EQ(spdlog::get_level(), spdlog::level::info);
  // Fixed again: the reload works and sees the level change against what was running.
  test::write_file(file(), "[server]\nport = 8100\n[log]\nlevel = \"warn\"\n");
  const auto fixed = reloader.reload();
  EXPECT_TRUE(fixed.loaded) << fixed.error;
  EXPECT_TRUE(fixed.log_level_changed);
  EXPECT_EQ(spdlog::get_level(), spdlog::level::warn);
}

TEST_F(ConfigReload, AFileThatVanishedIsRefused) {
  ConfigReloader reloader(sources_, load(sources_));
  std::filesystem::remove(file());
  const auto out = reloader.reload();
  EXPECT_FALSE(out.loaded);
  EXPECT_THAT(out.error, HasSubstr("vncgate.toml"));
}

}  // namespace
}  // namespace vncgate::config
