// SPDX-License-Identifier: Apache-2.0
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>

#include "config/service_config.hpp"
#include "support/process.hpp"
#include "util/error.hpp"

namespace vncgate::config {
namespace {

using test::TempDir;
using test::write_file;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

Sources with_env(std::map<std::string, std::string> variables = {}) {
  Sources sources;
  sources.use_env(std::move(variables));
  return sources;
}

// The ConfigError message of `action`; fails the test when it does not throw one.
std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a ConfigError";
  return "";
}

std::string toml_error(const std::string& text) {
  return error_of([&] { load_text(text, FileFormat::toml, "t.toml"); });
}
std::string yaml_error(const std::string& text) {
  return error_of([&] { load_text(text, FileFormat::yaml, "t.yaml"); });
}
std::string env_error(std::map<std::string, std::string> variables) {
  return error_of([&] { load(with_env(std::move(variables))); });
}

constexpr const char* kToml = R"(# a full config
[server]
bind = "0.0.0.0"
port = 9443
api_keys = ["key-one", "key-two"]
body_limit = "512KiB"
request_timeout_s = 10
public_url = "https://gw.example.com/"
allowed_origins = ["https://dash.example.com"]
web_root = "web"

[jobs]
database = "sqlite:data/jobs.db"
max_concurrent = 2
work_dir = "data/work"
max_duration_s = 3600
max_count = 10
upload_retry_s = 5
keep_local = true

[storage]
url = "s3://minio:9000/recordings"

[recording]
width = 1280
height = 720
fps = 12.5
quality = 23
preset = "fast"
chroma = "420"
fbs = true
reconnect_timeout_s = 0
connect_grace_s = 45

[providers]
default_provider = "proxmox"
allow = ["10.0.0.0/8", "vnc.example.com"]

[gateway]
link_ttl_s = 30
idle_timeout_s = 600
heartbeat_s = 50
audit_keys = true

[targets]
demo = "vnc://127.0.0.1:5990"
web-1 = "openstack:4c3e"

[log]
level = "debug"
)";

constexpr const char* kYaml = R"(# the same as kToml
server:
  bind: 0.0.0.0
  port: 9443
  api_keys: [key-one, key-two]
  body_limit: 512KiB
  request_timeout_s: 10
  public_url: "https://gw.example.com/"
  allowed_origins:
    - https://dash.example.com
  web_root: web
jobs:
  database: sqlite:data/jobs.db
  max_concurrent: 2
  work_dir: data/work
  max_duration_s: 3600
  max_count: 10
  upload_retry_s: 5
  keep_local: yes
storage: {url: "s3://minio:9000/recordings"}
recording:
  width: 1280
  height: 720
  fps: 12.5
  quality: 23
  preset: fast
  chroma: "420"
  fbs: true
  reconnect_timeout_s: 0
  connect_grace_s: 45
providers:
  default_provider: proxmox
  allow: [10.0.0.0/8, vnc.example.com]
gateway:
  link_ttl_s: 30
  idle_timeout_s: 600
  heartbeat_s: 50
  audit_keys: on
targets:
  demo: vnc://127.0.0.1:5990
  web-1: "openstack:4c3e"
log:
  level: debug
)";

void expect_full_config(const ServiceConfig& c) {
  EXPECT_EQ(c.server.bind, "0.0.0.0");
  EXPECT_EQ(c.server.port, 9443);
  EXPECT_EQ(c.server.api_keys, (std::vector<std::string>{"key-one", "key-two"}));
  EXPECT_EQ(c.server.body_limit, 512u * 1024);
  EXPECT_EQ(c.server.request_timeout_s, 10);
  EXPECT_EQ(c.server.public_url, "https://gw.example.com");  // trailing '/' dropped
  EXPECT_EQ(c.server.allowed_origins, std::vector<std::string>{"https://dash.example.com"});
  EXPECT_EQ(c.server.web_root, "web");
  EXPECT_EQ(c.jobs.database, "data/jobs.db");  // "sqlite:" dropped, relative path kept
  EXPECT_EQ(c.jobs.max_concurrent, 2);
  EXPECT_EQ(c.jobs.work_dir, "data/work");
  EXPECT_EQ(c.jobs.max_duration_s, 3600);
  EXPECT_EQ(c.jobs.max_count, 10);
  EXPECT_EQ(c.jobs.upload_retry_s, 5);
  EXPECT_TRUE(c.jobs.keep_local);
  EXPECT_EQ(c.storage.url, "s3://minio:9000/recordings");
  EXPECT_EQ(c.recording.width, 1280);
  EXPECT_EQ(c.recording.height, 720);
  EXPECT_DOUBLE_EQ(c.recording.fps, 12.5);
  EXPECT_EQ(c.recording.quality, 23);
  EXPECT_EQ(c.recording.preset, "fast");
  EXPECT_EQ(c.recording.chroma, "420");
  EXPECT_TRUE(c.recording.fbs);
  EXPECT_EQ(c.recording.reconnect_timeout_s, 0);
  EXPECT_EQ(c.recording.connect_grace_s, 45);
  EXPECT_EQ(c.providers.default_provider, "proxmox");
  EXPECT_EQ(c.providers.allow, (std::vector<std::string>{"10.0.0.0/8", "vnc.example.com"}));
  EXPECT_EQ(c.gateway.link_ttl_s, 30);
  EXPECT_EQ(c.gateway.idle_timeout_s, 600);
  EXPECT_EQ(c.gateway.heartbeat_s, 50);
  EXPECT_TRUE(c.gateway.audit_keys);
  EXPECT_EQ(c.targets,
            (std::map<std::string, std::string>{{"demo", "vnc://127.0.0.1:5990"}, {"web-1", "openstack:4c3e"}}));
  EXPECT_EQ(c.log_level, "debug");
}

TEST(ConfigLoad, Defaults_WhenNothingIsConfigured) {
  const auto c = load(with_env());
  EXPECT_EQ(c, ServiceConfig{});
  EXPECT_EQ(c.server.bind, "127.0.0.1");
  EXPECT_EQ(c.server.port, 8090);
  EXPECT_EQ(c.server.body_limit, 1u << 20);
  EXPECT_EQ(c.jobs.database, "vncgate-data/vncgate.db");
  EXPECT_EQ(c.storage.url, "file://vncgate-data/recordings");
  EXPECT_EQ(c.log_level, "info");
  EXPECT_TRUE(c.targets.empty());
}

TEST(ConfigLoad, TomlFile_SetsEveryKey) {
  TempDir dir;
  write_file(dir.file("vncgate.toml"), kToml);
  auto sources = with_env();
  sources.file = dir.file("vncgate.toml");
  expect_full_config(load(sources));
}

TEST(ConfigLoad, YamlFile_MapsToTheSameKeysAsToml) {
  TempDir dir;
  write_file(dir.file("vncgate.yaml"), kYaml);
  auto sources = with_env();
  sources.file = dir.file("vncgate.yaml");
  const auto yaml = load(sources);
  expect_full_config(yaml);
  EXPECT_EQ(yaml, load_text(kToml, FileFormat::toml));
  EXPECT_EQ(load_text("", FileFormat::yaml), ServiceConfig{});
  EXPECT_EQ(load_text("targets:\n", FileFormat::yaml), ServiceConfig{});
}

TEST(ConfigLoad, Precedence_FileThenEnvThenOverrides) {
  TempDir dir;
  write_file(dir.file("c.toml"),
             "[server]\nport = 1000\nrequest_timeout_s = 11\n[providers]\nallow = [\"a\", \"b\"]\n");
  auto sources = with_env({{"VNCGATE_SERVER_PORT", "2000"}, {"VNCGATE_PROVIDERS_ALLOW", "c, d,,"}});
  sources.file = dir.file("c.toml");
  auto c = load(sources);
  EXPECT_EQ(c.server.port, 2000);
  EXPECT_EQ(c.server.request_timeout_s, 11);                           // only in the file
  EXPECT_EQ(c.providers.allow, (std::vector<std::string>{"c", "d"}));  // env replaces the whole list

  sources.overrides = {{"server.port", "3000"}, {"providers.allow", "e"}, {"providers.allow", "f,g"}};
  c = load(sources);
  EXPECT_EQ(c.server.port, 3000);
  EXPECT_EQ(c.providers.allow, (std::vector<std::string>{"e", "f", "g"}));  // repeated flags add up

  sources.overrides = {{"server.port", "3000"}, {"server.port", "3001"}};
  EXPECT_EQ(load(sources).server.port, 3001);  // a repeated scalar flag: the last wins
}

TEST(ConfigLoad, Targets_LaterSourcesAddOrReplaceSingleTargets) {
  TempDir dir;
  write_file(dir.file("c.yml"), "targets:\n  a: vnc://127.0.0.1:5901\n  b: vnc://127.0.0.1:5902\n");
  auto sources = with_env({{"VNCGATE_TARGETS_B", "openstack:bbb"}});
  sources.file = dir.file("c.yml");
  sources.overrides = {{"targets.c", "proxmox:pve1/qemu/100"}};
  EXPECT_EQ(load(sources).targets,
            (std::map<std::string, std::string>{
                {"a", "vnc://127.0.0.1:5901"}, {"b", "openstack:bbb"}, {"c", "proxmox:pve1/qemu/100"}}));
}

TEST(ConfigLoad, ProcessEnvironment_WhenEnvIsUnset) {
  ::setenv("VNCGATE_SERVER_PORT", "4321", 1);
  ::setenv("VNCGATE_TARGETS_FROM_PROCESS", "vnc://127.0.0.1:5999", 1);
  Sources sources;
  const auto c = load(sources);
  ::setenv("VNCGATE_SERVER_PROTT", "1", 1);
  const auto error = error_of([&] { load(sources); });
  ::unsetenv("VNCGATE_SERVER_PORT");
  ::unsetenv("VNCGATE_TARGETS_FROM_PROCESS");
  ::unsetenv("VNCGATE_SERVER_PROTT");
  EXPECT_EQ(c.server.port, 4321);
  EXPECT_EQ(c.targets.at("from_process"), "vnc://127.0.0.1:5999");
  EXPECT_THAT(error, HasSubstr("VNCGATE_SERVER_PROTT: unknown setting"));
}

TEST(ConfigLoad, Env_ParsesEveryKindAndTargets) {
  const auto c = load(with_env({{"VNCGATE_JOBS_KEEP_LOCAL", "on"},
                                {"VNCGATE_RECORDING_FBS", "YES"},
                                {"VNCGATE_GATEWAY_AUDIT_KEYS", "0"},
                                {"VNCGATE_RECORDING_FPS", "29.97"},
                                {"VNCGATE_SERVER_BODY_LIMIT", "2MiB"},
                                {"VNCGATE_JOBS_MAX_DURATION_S", "60"},
                                {"VNCGATE_TARGETS_DEMO", "vnc://127.0.0.1:5990"},
                                {"VNCGATE_TARGETS_LAB_2", "proxmox:pve1/qemu/100"},
                                {"VNCGATE_LOG_LEVEL", "warn"},
                                {"VNCGATE_SERVER_PUBLIC_URL", ""}}));
  EXPECT_TRUE(c.jobs.keep_local);
  EXPECT_TRUE(c.recording.fbs);
  EXPECT_FALSE(c.gateway.audit_keys);
  EXPECT_DOUBLE_EQ(c.recording.fps, 29.97);
  EXPECT_EQ(c.server.body_limit, 2u << 20);
  EXPECT_EQ(c.jobs.max_duration_s, 60);
  EXPECT_EQ(c.targets,
            (std::map<std::string, std::string>{{"demo", "vnc://127.0.0.1:5990"}, {"lab_2", "proxmox:pve1/qemu/100"}}));
  EXPECT_EQ(c.log_level, "warn");
}

TEST(ConfigLoad, Env_IgnoresVariablesOtherPartsUse) {
  EXPECT_EQ(load(with_env({{"VNCGATE_S3_ACCESS_KEY", "AK"},
                           {"VNCGATE_S3_SECRET_KEY_FILE", "/nonexistent"},
                           {"VNCGATE_ALLOW", "10.0.0.1"},
                           {"VNCGATE_DEMO_PORT", "5990"},
                           {"VNCGATE_TEST_SERVER_PORT", "x"},
                           {"VNCGATE_BINARY", "/bin/true"},
                           {"VNCGATE_KEEP_TMP", "1"},
                           {"VNCGATE_GUEST_DIR", "/tmp"},
                           {"VNCGATE_VNC_PASSWORD", "pw"},
                           {"VNCGATE_TRACE", "1"},
                           {"OTHER_SERVER_PORT", "x"}})),
            ServiceConfig{});
}

TEST(ConfigLoad, FileVariants_ReadSecretsFromFiles) {
  TempDir dir;
  write_file(dir.file("keys"), "# gateway keys\nkey-alpha\n\n  key-beta  \n# old: key-gamma\n");
  write_file(dir.file("url"), "s3://minio:9000/bucket\n");
  write_file(dir.file("target"), "vnc://127.0.0.1:5991\n");
  auto c = load(with_env({{"VNCGATE_SERVER_API_KEYS_FILE", dir.file("keys")},
                          {"VNCGATE_STORAGE_URL_FILE", dir.file("url")},
                          {"VNCGATE_TARGETS_SECOND_FILE", dir.file("target")}}));
  EXPECT_EQ(c.server.api_keys, (std::vector<std::string>{"key-alpha", "key-beta"}));
  EXPECT_EQ(c.storage.url, "s3://minio:9000/bucket");
  EXPECT_EQ(c.targets.at("second"), "vnc://127.0.0.1:5991");

  c = load_text("[server]\nbind = \"0.0.0.0\"\napi_keys_file = \"" + dir.file("keys") + "\"\n", FileFormat::toml);
  EXPECT_EQ(c.server.api_keys, (std::vector<std::string>{"key-alpha", "key-beta"}));

  auto sources = with_env();
  sources.overrides = {{"server.api_keys_file", dir.file("keys")}};
  EXPECT_EQ(load(sources).server.api_keys.size(), 2u);
}

TEST(ConfigErrors, UnknownKeys_SuggestTheClosest) {
  EXPECT_THAT(toml_error("[server]\nprot = 1\n"),
              AllOf(HasSubstr("server.prot: unknown key (did you mean server.port?)"), HasSubstr("t.toml:2:")));
  EXPECT_THAT(toml_error("\n[servr]\nport = 1\n"),
              AllOf(HasSubstr("servr: unknown section (did you mean server?)"), HasSubstr("t.toml:2:")));
  EXPECT_THAT(toml_error("port = 1\n"), HasSubstr("port: unknown key (did you mean server.port?)"));
  EXPECT_THAT(toml_error("[server]\nzzz = 1\n"), AllOf(HasSubstr("server.zzz: unknown key"), Not(HasSubstr("mean"))));
  EXPECT_THAT(toml_error("[server.tls]\ncert = \"x\"\n"), HasSubstr("server.tls: unknown key"));
  EXPECT_THAT(toml_error("server = 1\n"), HasSubstr("server: expected a section, got an integer"));
  EXPECT_THAT(yaml_error("jobs:\n  max_concurent: 3\n"),
              AllOf(HasSubstr("did you mean jobs.max_concurrent?"), HasSubstr("t.yaml:2:")));
  EXPECT_THAT(env_error({{"VNCGATE_SERVER_PROT", "1"}}),
              HasSubstr("VNCGATE_SERVER_PROT: unknown setting (did you mean VNCGATE_SERVER_PORT?)"));
  EXPECT_THAT(env_error({{"VNCGATE_JOBS_SOMETHING_ELSE", "1"}}), HasSubstr("VNCGATE_JOBS_SOMETHING_ELSE: unknown"));
  EXPECT_THAT(env_error({{"VNCGATE_SERVR_PORT", "1"}}), HasSubstr("did you mean VNCGATE_SERVER_PORT?"));
  auto sources = with_env();
  sources.overrides = {{"server.prt", "1"}};
  EXPECT_THAT(error_of([&] { load(sources); }), HasSubstr("server.prt: unknown key (did you mean server.port?)"));
}

TEST(ConfigErrors, WrongTypes_NameTheKeyAndLine) {
  EXPECT_THAT(toml_error("[server]\n\nport = \"8090\"\n"),
              AllOf(HasSubstr("server.port: expected an integer, got a string"), HasSubstr("t.toml:3:")));
  EXPECT_THAT(toml_error("[server]\napi_keys = \"k\"\n"), HasSubstr("server.api_keys: expected a list, got a string"));
  EXPECT_THAT(toml_error("[server]\napi_keys = [1]\n"), HasSubstr("server.api_keys: expected a list of strings"));
  EXPECT_THAT(toml_error("[jobs]\nkeep_local = \"yes\"\n"),
              HasSubstr("jobs.keep_local: expected a boolean, got a string"));
  EXPECT_THAT(toml_error("[server]\nbind = 1\n"), HasSubstr("server.bind: expected a string, got an integer"));
  EXPECT_THAT(toml_error("[recording]\nfps = 1979-05-27\n"), HasSubstr("recording.fps: expected a number, got a date"));
  EXPECT_THAT(toml_error("[targets]\ndemo = 5\n"), HasSubstr("targets.demo: expected a string"));
  EXPECT_THAT(yaml_error("server:\n  port: [1]\n"),
              AllOf(HasSubstr("server.port: expected an integer, got a list"), HasSubstr("t.yaml:2:")));
  EXPECT_THAT(yaml_error("server:\n  api_keys: abc\n"), HasSubstr("server.api_keys: expected a list"));
  EXPECT_THAT(yaml_error("- a\n- b\n"), HasSubstr("t.yaml:1:1: expected a mapping of sections"));
  EXPECT_THAT(yaml_error("server:\n  port: 1\n---\nserver:\n  port: 2\n"),
              HasSubstr("t.yaml:3: only one YAML document"));
}

TEST(ConfigErrors, Values_StrictAndInRange) {
  EXPECT_THAT(
      env_error({{"VNCGATE_SERVER_PORT", "12abc"}}),
      AllOf(HasSubstr("server.port: expected an integer 0..65535, got '12abc'"), HasSubstr("VNCGATE_SERVER_PORT")));
  EXPECT_THAT(env_error({{"VNCGATE_SERVER_PORT", " 80"}}), HasSubstr("server.port"));
  EXPECT_THAT(env_error({{"VNCGATE_SERVER_PORT", "+80"}}), HasSubstr("server.port"));
  EXPECT_THAT(env_error({{"VNCGATE_SERVER_PORT", "70000"}}), HasSubstr("server.port: expected an integer 0..65535"));
  EXPECT_THAT(env_error({{"VNCGATE_JOBS_MAX_DURATION_S", "99999999999999999999"}}), HasSubstr("jobs.max_duration_s"));
  EXPECT_THAT(env_error({{"VNCGATE_JOBS_MAX_CONCURRENT", "0"}}),
              HasSubstr("jobs.max_concurrent: expected an integer 1..1024"));
  EXPECT_THAT(env_error({{"VNCGATE_JOBS_KEEP_LOCAL", "maybe"}}), HasSubstr("jobs.keep_local: expected true/false"));
  EXPECT_THAT(env_error({{"VNCGATE_SERVER_BODY_LIMIT", "1MB"}}), HasSubstr("server.body_limit: expected a size"));
  EXPECT_THAT(env_error({{"VNCGATE_SERVER_BODY_LIMIT", "99999999999GiB"}}), HasSubstr("server.body_limit"));
  EXPECT_THAT(env_error({{"VNCGATE_RECORDING_FPS", "nan"}}), HasSubstr("recording.fps: expected a number 0.1..120"));
  EXPECT_THAT(toml_error("[recording]\nquality = 52\n"),
              HasSubstr("recording.quality: expected an integer 0..51, got '52'"));
  EXPECT_THAT(toml_error("[recording]\nfps = 0\n"), HasSubstr("recording.fps"));
  EXPECT_THAT(env_error({{"VNCGATE_RECORDING_CONNECT_GRACE_S", "3601"}}),
              HasSubstr("recording.connect_grace_s: expected an integer 0..3600, got '3601'"));
  EXPECT_THAT(toml_error("[recording]\nconnect_grace_s = -1\n"), HasSubstr("recording.connect_grace_s"));
  EXPECT_THAT(toml_error("[recording]\npreset = \"quick\"\n"),
              HasSubstr("recording.preset: expected one of ultrafast|"));
  EXPECT_THAT(toml_error("[recording]\nchroma = \"422\"\n"), HasSubstr("recording.chroma: expected one of 444|420"));
  EXPECT_THAT(toml_error("[log]\nlevel = \"loud\"\n"),
              HasSubstr("log.level: expected one of trace|debug|info|warn|error"));
  EXPECT_THAT(toml_error("[providers]\ndefault_provider = \"aws\"\n"), HasSubstr("providers.default_provider"));
  EXPECT_THAT(toml_error("[recording]\nwidth = 640\n"), HasSubstr("recording.height: set both width and height"));
  EXPECT_THAT(toml_error("[recording]\nwidth = 641\nheight = 480\n"),
              HasSubstr("recording.width: expected an even size"));
  EXPECT_THAT(toml_error("[storage]\nurl = \"ftp://x\"\n"), HasSubstr("storage.url: expected file://DIR or s3://"));
  EXPECT_THAT(toml_error("[jobs]\ndatabase = \"mysql://db/x\"\n"),
              HasSubstr("jobs.database: expected a SQLite file path, sqlite:PATH or a postgresql:// URL"));
  EXPECT_THAT(toml_error("[jobs]\nurl = \"postgresql://u:SEKRIT@db\"\n"),
              HasSubstr("expected postgresql://[USER[:PASSWORD]@]HOST[:PORT]/DATABASE"));
  EXPECT_THAT(toml_error("[jobs]\nurl = \"postgresql://u:SEKRIT@db\"\n"), Not(HasSubstr("SEKRIT")));
  EXPECT_THAT(toml_error("[jobs]\nlease_s = 8\nheartbeat_s = 5\n"), HasSubstr("jobs.heartbeat_s: 5 is more than half"));
  EXPECT_THAT(toml_error("[server]\nrole = \"both\"\n"), HasSubstr("server.role"));
  EXPECT_THAT(toml_error("[jobs]\nwork_dir = \"\"\n"), HasSubstr("jobs.work_dir: empty"));
  EXPECT_THAT(toml_error("[server]\npublic_url = \"gw.example.com\"\n"),
              HasSubstr("server.public_url: expected http(s)://"));
  EXPECT_THAT(toml_error("[server]\nallowed_origins = [\"https://a/b\"]\n"), HasSubstr("server.allowed_origins"));
  // Messages about URLs show them masked.
  EXPECT_THAT(toml_error("[server]\npublic_url = \"https://u:SEKRIT@gw/x\"\n"),
              AllOf(HasSubstr("server.public_url"), Not(HasSubstr("SEKRIT"))));
  EXPECT_THAT(toml_error("[targets]\nx = \"telnet://u:SEKRIT@h\"\n"),
              AllOf(HasSubstr("targets.x"), Not(HasSubstr("SEKRIT"))));
  EXPECT_THAT(toml_error("[storage]\nurl = \"ftp://u:SEKRIT@h\"\n"),
              AllOf(HasSubstr("storage.url"), Not(HasSubstr("SEKRIT"))));
  EXPECT_THAT(toml_error("[targets]\nDemo = \"vnc://h\"\n"), HasSubstr("targets.Demo: target names are"));
  EXPECT_THAT(toml_error("[targets]\ndemo = \"telnet://h\"\n"), HasSubstr("targets.demo: expected vnc://"));
  EXPECT_THAT(toml_error("[providers]\nallow = [\"\"]\n"), HasSubstr("providers.allow"));
  // Console sessions across nodes: both keys or neither, PostgreSQL, a long secret that is never echoed.
  const std::string pg = "[jobs]\nurl = \"postgresql://db/vncgate\"\n";
  const std::string secret = "secret = \"SEKRIT-0123456789-0123456789-0123456789\"\n";
  EXPECT_THAT(toml_error(pg + "[cluster]\nadvertise_url = \"http://10.0.0.1:8090\"\n"),
              HasSubstr("cluster.secret: required with cluster.advertise_url"));
  EXPECT_THAT(toml_error(pg + "[cluster]\n" + secret),
              HasSubstr("cluster.advertise_url: required with cluster.secret"));
  EXPECT_THAT(toml_error("[cluster]\nadvertise_url = \"http://10.0.0.1:8090\"\n" + secret),
              HasSubstr("shared through PostgreSQL"));
  EXPECT_THAT(toml_error(pg + "[cluster]\nadvertise_url = \"10.0.0.1:8090\"\n" + secret),
              HasSubstr("cluster.advertise_url: expected http(s)://"));
  EXPECT_THAT(toml_error(pg + "[cluster]\nadvertise_url = \"http://10.0.0.1\"\nsecret = \"SEKRIT-short\"\n"),
              AllOf(HasSubstr("cluster.secret: expected 32 or more"), Not(HasSubstr("SEKRIT"))));
  EXPECT_THAT(toml_error("[cluster]\nnode_timeout_s = 1\n"), HasSubstr("cluster.node_timeout_s"));
  const auto cluster = load_text(
      pg + "[cluster]\nadvertise_url = \"https://10.0.0.1:8090/\"\nnode_timeout_s = 9\n" + secret, FileFormat::toml);
  EXPECT_EQ(cluster.cluster.advertise_url, "https://10.0.0.1:8090");
  EXPECT_EQ(cluster.cluster.node_timeout_s, 9);
  EXPECT_THAT(render(cluster), Not(HasSubstr("SEKRIT")));
  EXPECT_THAT(env_error({{"VNCGATE_TARGETS_BAD.NAME", "vnc://h"}}),
              HasSubstr("VNCGATE_TARGETS_BAD.NAME: target names"));
}

TEST(ConfigErrors, SyntaxErrors_GiveLineAndColumn) {
  EXPECT_THAT(toml_error("[server]\nport = 80\nbind = \n"), HasSubstr("t.toml:3:"));
  EXPECT_THAT(toml_error("[server]\nport = 1\nport = 2\n"), HasSubstr("t.toml:3:"));
  EXPECT_THAT(yaml_error("server:\n  port: 80\n  bind: x: y\n"), HasSubstr("t.yaml:3:"));
  // Inputs that hit toml++ 3.3 internal preconditions (marzer/tomlplusplus#301): an error, not an abort.
  EXPECT_THAT(toml_error(std::string("[\0]", 3)), HasSubstr("t.toml"));
  EXPECT_THAT(toml_error("[[[1]]]\n"), HasSubstr("t.toml"));
  EXPECT_THAT(toml_error("[[="), HasSubstr("t.toml"));
  // toml++ 3.3's Unicode tables are undefined behaviour for most of U+00A1..U+0499 where a key, value or
  // whitespace may stand (the fuzz target found it with UBSan); here they are plain syntax errors.
  EXPECT_THAT(toml_error("[server]\np\xc3\xa1rt = 1\n"), HasSubstr("t.toml:2:"));
  EXPECT_THAT(toml_error("[server]\nport = 8\xc3\xa1\n"), HasSubstr("t.toml:2:"));
  EXPECT_THAT(toml_error("[server]\nweb_root = \"a\x01\"\n"), HasSubstr("t.toml:2:"));
  EXPECT_EQ(load_text("[server]\nweb_root = \"\"\"\\\n  \xc3\xa1\"\"\"\n", FileFormat::toml).server.web_root,
            "\xc3\xa1");
  // Non-ASCII stays fine in strings and comments.
  const auto c = load_text(
      "# M\xc3\xbcller\n[server]\nweb_root = \"/srv/M\xc3\xbcller\" # \xd0\x96\n[targets]\nx = '''vnc://\xd0\x96'''\n",
      FileFormat::toml);
  EXPECT_EQ(c.server.web_root, "/srv/M\xc3\xbcller");
  EXPECT_EQ(c.targets.at("x"), "vnc://\xd0\x96");
  EXPECT_THAT(yaml_error("server:\n  port: 80\n  port: 81\n"),
              AllOf(HasSubstr("server.port: set twice"), HasSubstr("t.yaml:3:")));
}

TEST(ConfigErrors, YamlAliasBomb_IsRefusedQuickly) {
  // Each level refers to the previous one ten times: 10^8 nodes if expanded.
  std::string text = "x:\n  l0: &l0 [a, a, a, a, a, a, a, a, a, a]\n";
  for (int level = 1; level < 8; ++level) {
    const auto prev = "*l" + std::to_string(level - 1);
    text += "  l" + std::to_string(level) + ": &l" + std::to_string(level) + " [" + prev;
    for (int i = 1; i < 10; ++i) text += ", " + prev;
    text += "]\n";
  }
  text += "server:\n  api_keys: *l7\n";
  EXPECT_THAT(yaml_error(text), HasSubstr("too large"));
}

TEST(ConfigErrors, Files_UnreadableOrUnknownFormat) {
  TempDir dir;
  auto sources = with_env();
  sources.file = dir.file("missing.toml");
  EXPECT_THAT(error_of([&] { load(sources); }), HasSubstr("missing.toml: cannot read"));
  write_file(dir.file("c.ini"), "");
  sources.file = dir.file("c.ini");
  EXPECT_THAT(error_of([&] { load(sources); }), HasSubstr("c.ini: config files end in .toml, .yaml or .yml"));
  EXPECT_THAT(env_error({{"VNCGATE_SERVER_API_KEYS_FILE", dir.file("nope")}}),
              AllOf(HasSubstr("server.api_keys: cannot read"), HasSubstr("VNCGATE_SERVER_API_KEYS_FILE")));
  EXPECT_THAT(toml_error("[server]\napi_keys_file = \"" + dir.file("nope") + "\"\n"), HasSubstr("t.toml:2:"));
  EXPECT_THAT(env_error({{"VNCGATE_SERVER_API_KEYS_FILE", "/dev/zero"}}),
              HasSubstr("server.api_keys: /dev/zero is larger than 4 MiB"));
  write_file(dir.file("k"), "k1\n");
  EXPECT_THAT(env_error({{"VNCGATE_SERVER_API_KEYS", "k0"}, {"VNCGATE_SERVER_API_KEYS_FILE", dir.file("k")}}),
              HasSubstr("server.api_keys: set either VNCGATE_SERVER_API_KEYS or VNCGATE_SERVER_API_KEYS_FILE"));
  EXPECT_THAT(toml_error("[server]\napi_keys = [\"a\"]\napi_keys_file = \"" + dir.file("k") + "\"\n"),
              HasSubstr("server.api_keys: set twice"));
}

TEST(ConfigErrors, Tls_NeedsBothReadableFiles) {
  TempDir dir;
  write_file(dir.file("cert.pem"), "cert");
  write_file(dir.file("key.pem"), "key");
  EXPECT_THAT(env_error({{"VNCGATE_SERVER_TLS_CERT", dir.file("cert.pem")}}),
              HasSubstr("server.tls_key: missing (server.tls_cert is set"));
  EXPECT_THAT(env_error({{"VNCGATE_SERVER_TLS_KEY", dir.file("key.pem")}}), HasSubstr("server.tls_cert: missing"));
  EXPECT_THAT(
      env_error({{"VNCGATE_SERVER_TLS_CERT", dir.file("cert.pem")}, {"VNCGATE_SERVER_TLS_KEY", dir.file("no")}}),
      HasSubstr("server.tls_key: cannot read"));
  const auto c = load(
      with_env({{"VNCGATE_SERVER_TLS_CERT", dir.file("cert.pem")}, {"VNCGATE_SERVER_TLS_KEY", dir.file("key.pem")}}));
  EXPECT_EQ(c.server.tls_cert, dir.file("cert.pem"));
}

TEST(ConfigErrors, NonLoopbackBind_NeedsApiKeys) {
  for (const char* bind : {"0.0.0.0", "::", "192.168.1.10"})
    EXPECT_THAT(env_error({{"VNCGATE_SERVER_BIND", bind}}), HasSubstr("server.api_keys: required when server.bind is"))
        << bind;
  for (const char* bind : {"127.0.0.1", "127.0.0.2", "::1"})
    EXPECT_EQ(load(with_env({{"VNCGATE_SERVER_BIND", bind}})).server.bind, bind);
  EXPECT_EQ(load(with_env({{"VNCGATE_SERVER_BIND", "[::1]"}})).server.bind, "::1") << "as the listener takes it";
  // A name is refused in validation, as the listener would refuse it (it binds one exact address).
  for (const char* bind : {"localhost", "gw.example.com"})
    EXPECT_THAT(env_error({{"VNCGATE_SERVER_BIND", bind}}), HasSubstr("server.bind: expected an IP address")) << bind;
  EXPECT_EQ(
      load(with_env({{"VNCGATE_SERVER_BIND", "0.0.0.0"}, {"VNCGATE_SERVER_API_KEYS", "k1,k2"}})).server.api_keys.size(),
      2u);
  EXPECT_THAT(env_error({{"VNCGATE_SERVER_API_KEYS", "ok-key, sekrit key"}}),
              AllOf(HasSubstr("server.api_keys: key #2"), Not(HasSubstr("sekrit"))));
}

TEST(ConfigRender, MasksEverySecret) {
  ServiceConfig c;
  c.server.bind = "0.0.0.0";
  c.server.api_keys = {"sekrit-key-1", "sekrit-key-2"};
  c.storage.url = "s3://AKIDSEKRIT:SKSEKRIT@minio:9000/rec?region=us&secret_key=QSEKRIT&X-Amz-Signature=SIGSEKRIT";
  c.targets["a"] = "vnc://:pwSEKRIT@127.0.0.1:5900";
  c.targets["b"] = "wss://user:p/w@SEKRIT@host/websockify?token=TOKSEKRIT&path=x#frag";
  c.targets["c"] = "vnc://127.0.0.1:5900?password=PASSSEKRIT";
  const auto out = render(c);
  EXPECT_THAT(out, Not(HasSubstr("SEKRIT")));
  EXPECT_THAT(out, Not(HasSubstr("sekrit")));
  EXPECT_THAT(out, HasSubstr("api_keys = [\"***\"]"));
  EXPECT_THAT(out, HasSubstr("url = \"s3://***@minio:9000/rec?region=us&secret_key=***&X-Amz-Signature=***\""));
  EXPECT_THAT(out, HasSubstr("a = \"vnc://***@127.0.0.1:5900\""));
  EXPECT_THAT(out, HasSubstr("b = \"wss://***@host/websockify?token=***&path=x#frag\""));
  EXPECT_THAT(out, HasSubstr("c = \"vnc://127.0.0.1:5900?password=***\""));
  EXPECT_THAT(render(c, false), HasSubstr("sekrit-key-1"));
  EXPECT_EQ(mask_url("openstack:4c3e"), "openstack:4c3e");
  EXPECT_EQ(mask_url("vnc://host:5900/"), "vnc://host:5900/");
}

TEST(ConfigRender, RoundTrip_UnmaskedRenderLoadsBackEqual) {
  auto c = load_text(kToml, FileFormat::toml);
  c.server.api_keys.push_back("quote\"and\\back");  // valid key chars, awkward in TOML
  c.targets["odd"] = "vnc://127.0.0.1:5900/?x=\"y\"";
  c.recording.fps = 29.97;
  c.server.body_limit = 1234567;
  TempDir dir;
  write_file(dir.file("rendered.toml"), render(c, false));
  auto sources = with_env();
  sources.file = dir.file("rendered.toml");
  EXPECT_EQ(load(sources), c) << render(c, false);
  EXPECT_EQ(load_text(render(ServiceConfig{}, false), FileFormat::toml), ServiceConfig{});
}

}  // namespace
}  // namespace vncgate::config

namespace vncgate::config {
namespace {

TEST(ConfigJobs, UrlSelectsPostgres_ShownMaskedAsTheDatabase) {
  const auto c = load_text("[jobs]\nurl = \"postgresql://vncgate:SEKRIT@db:5432/jobs\"\nworker_id = \"node-1\"\n",
                           FileFormat::toml);
  EXPECT_EQ(c.jobs.database, "postgresql://vncgate:SEKRIT@db:5432/jobs");
  EXPECT_EQ(c.jobs.worker_id, "node-1");
  EXPECT_EQ(c.jobs.lease_s, 20);
  EXPECT_EQ(c.jobs.heartbeat_s, 5);
  EXPECT_EQ(c.server.role, "all");
  const auto shown = render(c);
  EXPECT_THAT(shown, Not(HasSubstr("SEKRIT")));
  EXPECT_THAT(shown, HasSubstr("postgresql://***@db:5432/jobs"));
  EXPECT_EQ(load_text(render(c, false), FileFormat::toml), c);
}

}  // namespace
}  // namespace vncgate::config
