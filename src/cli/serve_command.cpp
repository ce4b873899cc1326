// SPDX-License-Identifier: Apache-2.0
#include "cli/serve_command.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/exit_codes.hpp"
#include "cli/serve_signals.hpp"
#include "config/config_reload.hpp"
#include "config/service_config.hpp"
#include "service/service.hpp"
#include "service/systemd_notify.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace vncgate::cli {

namespace {

// file://relative/dir (the default) is relative to the working directory, like the other paths.
std::string absolute_file_url(const std::string& url) {
  const std::string scheme = "file://";
  if (url.compare(0, scheme.size(), scheme) != 0 || url.size() == scheme.size() || url[scheme.size()] == '/')
    return url;
  return scheme + std::filesystem::absolute(url.substr(scheme.size())).lexically_normal().string();
}

service::ServiceSettings to_settings(const config::ServiceConfig& c) {
  service::ServiceSettings s;
  s.http.bind = c.server.bind;
  s.http.port = c.server.port;
  s.http.api_keys = c.server.api_keys;
  s.http.allow_no_auth = c.server.allow_no_auth;
  s.http.allowed_hosts = c.server.allowed_hosts;
  s.http.allowed_origins = c.server.allowed_origins;
  s.http.public_url = c.server.public_url;
  s.http.max_connections = static_cast<std::size_t>(c.server.max_connections);
  s.http.max_connections_per_client = static_cast<std::size_t>(c.server.max_connections_per_client);
  s.http.body_limit = c.server.body_limit;
  s.http.request_timeout = std::chrono::seconds(c.server.request_timeout_s);
  s.http.write_timeout = std::chrono::seconds(c.server.write_timeout_s);
  s.http.tls_cert = c.server.tls_cert;
  s.http.tls_key = c.server.tls_key;
  s.database = c.jobs.database;
  s.storage_url = absolute_file_url(c.storage.url);
  s.jobs.max_concurrent = c.jobs.max_concurrent;
  s.jobs.work_dir = c.jobs.work_dir;
  s.jobs.max_duration_s = c.jobs.max_duration_s;
  s.jobs.max_count = c.jobs.max_count;
  s.jobs.max_total_s = c.jobs.max_total_s;
  s.jobs.max_queued = c.jobs.max_queued;
  s.jobs.max_queued_per_key = c.jobs.max_queued_per_key;
  s.jobs.upload_retry = std::chrono::seconds(c.jobs.upload_retry_s);
  s.jobs.keep_local = c.jobs.keep_local;
  s.jobs.worker_id = c.jobs.worker_id;
  s.jobs.lease = std::chrono::seconds(c.jobs.lease_s);
  s.jobs.heartbeat = std::chrono::seconds(c.jobs.heartbeat_s);
  s.role = c.server.role == "api"      ? service::ServiceRole::api
           : c.server.role == "worker" ? service::ServiceRole::worker
                                       : service::ServiceRole::all;
  s.recording.width = c.recording.width;
  s.recording.height = c.recording.height;
  s.recording.fps = c.recording.fps;
  s.recording.quality = c.recording.quality;
  s.recording.preset = c.recording.preset;
  s.recording.chroma = *record::parse_chroma(c.recording.chroma);  // the config checked the choice
  s.recording.fbs = c.recording.fbs;
  s.recording.reconnect_timeout_s = c.recording.reconnect_timeout_s;
  s.recording.connect_grace_s = c.recording.connect_grace_s;
  s.targets.named = c.targets;
  s.targets.default_provider = c.providers.default_provider;
  s.targets.allow = c.providers.allow;
  s.targets.allow_loopback = c.providers.allow_loopback;
  s.web_root = c.server.web_root;
  s.novnc_dir = c.server.novnc_dir;
#ifdef VNCGATE_DEFAULT_NOVNC_DIR
  if (s.novnc_dir.empty()) s.novnc_dir = VNCGATE_DEFAULT_NOVNC_DIR;  // packaged builds: Debian's /usr/share/novnc
#endif
  s.gateway.link_ttl = std::chrono::seconds(c.gateway.link_ttl_s);
  s.gateway.idle_timeout = std::chrono::seconds(c.gateway.idle_timeout_s);
  s.gateway.hibernate_after = std::chrono::seconds(c.gateway.hibernate_after_s);
  s.gateway.heartbeat = std::chrono::seconds(c.gateway.heartbeat_s);
  s.gateway.audit_keys = c.gateway.audit_keys;
  s.gateway.max_sessions = c.gateway.max_sessions;
  s.gateway.max_sessions_per_key = c.gateway.max_sessions_per_key;
  s.gateway.connect_attempts = c.gateway.connect_attempts;
  s.gateway.max_picture_pixels = c.gateway.max_picture_pixels;
  s.gateway.picture_memory = c.gateway.picture_memory;
  s.gateway.public_url = c.server.public_url;
  s.cluster.advertise_url = c.cluster.advertise_url;
  s.cluster.secret = c.cluster.secret;
  s.cluster.node_id = c.cluster.node_id;
  s.cluster.node_timeout = std::chrono::seconds(c.cluster.node_timeout_s);
  return s;
}

}  // namespace

std::function<int()> add_serve_command(CLI::App& app) {
  struct Options {
    std::string config_file;
    bool print_config = false;
    std::vector<std::string> targets, sets;
    std::string bind, database, storage, work_dir, web_root, role;
    int port = -1, max_jobs = -1;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("serve", "run the recording service and its REST API (docs/configuration.md)");
  cmd->add_option("-c,--config", opts->config_file, "configuration file (.toml, .yaml)")->check(CLI::ExistingFile);
  cmd->add_flag("--print-config", opts->print_config, "print the effective configuration (secrets masked) and exit");
  cmd->add_option("--bind", opts->bind, "listen address (server.bind)");
  cmd->add_option("--port", opts->port, "listen port (server.port; 0 = any free port)")->check(CLI::Range(0, 65535));
  cmd->add_option("--db", opts->database, "job database: a SQLite file or a postgresql:// URL (jobs.database)");
  cmd->add_option("--storage", opts->storage, "where recordings go: file://DIR or s3://… (storage.url)");
  cmd->add_option("--work-dir", opts->work_dir, "local directory for segments before upload (jobs.work_dir)");
  cmd->add_option("--max-jobs", opts->max_jobs, "recordings at once (jobs.max_concurrent)")
      ->check(CLI::Range(1, 10000));
  cmd->add_option("--role", opts->role, "all, api (no recording) or worker (recording only) (server.role)")
      ->check(CLI::IsMember({"all", "api", "worker"}));
  cmd->add_option("--web-root", opts->web_root, "directory of the dashboard and console pages (server.web_root)");
  cmd->add_option("--target", opts->targets, "a named console: NAME=TARGET (targets.NAME; repeatable)");
  cmd->add_option("--set", opts->sets, "any configuration key: SECTION.KEY=VALUE (repeatable)");

  return [opts, cmd]() -> int {
    if (!cmd->parsed()) return -1;
    config::Sources sources;
    if (!opts->config_file.empty()) sources.file = opts->config_file;
    auto set = [&](const std::string& key, const std::string& value) { sources.overrides.emplace_back(key, value); };
    auto split = [](const std::string& text, const char* flag) {
      const auto eq = text.find('=');
      if (eq == std::string::npos || eq == 0)
        throw UsageError(std::string(flag) + " expects NAME=VALUE, got '" + text + "'");
      return std::pair{text.substr(0, eq), text.substr(eq + 1)};
    };
    for (const auto& entry : opts->sets) {
      auto [key, value] = split(entry, "--set");
      set(key, value);
    }
    if (!opts->bind.empty()) set("server.bind", opts->bind);
    if (opts->port >= 0) set("server.port", std::to_string(opts->port));
    if (!opts->database.empty()) set("jobs.database", opts->database);
    if (!opts->storage.empty()) set("storage.url", opts->storage);
    if (!opts->work_dir.empty()) set("jobs.work_dir", opts->work_dir);
    if (opts->max_jobs > 0) set("jobs.max_concurrent", std::to_string(opts->max_jobs));
    if (!opts->web_root.empty()) set("server.web_root", opts->web_root);
    if (!opts->role.empty()) set("server.role", opts->role);
    for (const auto& entry : opts->targets) {
      auto [name, target] = split(entry, "--target");
      set("targets." + name, target);
    }
    const auto config = config::load(sources);
    if (opts->print_config) {
      std::cout << config::render(config, true);
      return kOk;
    }
    log::set_level(config.log_level);
    // The database, work files and local recordings are the service's alone (recordings of consoles, job
    // history): files 0600, directories 0700, whatever the umask it was started with.
    ::umask(077);
    config::ConfigReloader reloader(sources, config);
    ServeSignals signals([&reloader] { reloader.reload(); });  // before the service: SIGHUP is caught from here on
    service::Service service(to_settings(config));
    service.start();
    service::systemd_notify("READY=1\nSTATUS=listening on port " + std::to_string(service.port()));
    service.run(/*handle_signals=*/true);
    return kOk;
  };
}

}  // namespace vncgate::cli
