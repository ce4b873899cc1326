// SPDX-License-Identifier: Apache-2.0
#include "service/service.hpp"

#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/thread_pool.hpp>
#include <condition_variable>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "gateway/session_manager.hpp"
#include "jobs/notifying_job_store.hpp"
#include "jobs/open_job_store.hpp"
#include "jobs/postgres/postgres_job_store.hpp"
#include "providers/provider_set.hpp"
#include "service/cluster_sessions.hpp"
#include "service/cluster_ticket.hpp"
#include "service/http_server.hpp"
#include "service/job_request.hpp"
#include "service/job_runner.hpp"
#include "service/recordings_api.hpp"
#include "service/request_guard.hpp"
#include "service/sessions_api.hpp"
#include "service/static_files.hpp"
#include "service/text_api.hpp"
#include "service/uploader.hpp"
#include "storage/storage.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

extern const char* const vncgate_openapi_yaml;

namespace vncgate::service {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A console endpoint for a live session; a fresh ProviderSet per call, as sessions acquire concurrently.
boost::asio::awaitable<providers::ConsoleEndpoint> acquire_console(TargetSettings targets, std::string target) {
  auto direct = direct_settings(targets);
  auto parsed = providers::parse_target(target);
  if (!parsed) throw UsageError("bad console target");
  providers::ProviderSet providers(std::move(direct));
  co_return co_await providers.acquire(*parsed);
}

gateway::ManagerOptions manager_options(const ServiceSettings& s, Uploader& uploader) {
  gateway::ManagerOptions o;
  // A recorded session's files (FBS, MP4 segments, sidecars, audit log) go to storage once it has closed.
  o.recording_closed = [&uploader](const std::string& id, const std::string& dir) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec))
      if (entry.is_regular_file()) uploader.enqueue_to_bucket(session_bucket(id), entry.path().string());
  };
  o.idle_timeout = s.gateway.idle_timeout;
  o.hibernate_after = s.gateway.hibernate_after;
  o.link_ttl = s.gateway.link_ttl;
  o.audit_keys = s.gateway.audit_keys;
  o.max_sessions = static_cast<std::size_t>(s.gateway.max_sessions);
  o.max_sessions_per_client = static_cast<std::size_t>(s.gateway.max_sessions_per_key);
  o.connect_attempts = s.gateway.connect_attempts;
  o.max_picture_pixels = s.gateway.max_picture_pixels;
  o.picture_memory = s.gateway.picture_memory;
  o.record_dir = (fs::path(s.jobs.work_dir) / "sessions").string();
  return o;
}

// This node's name in the cluster tables: configured, else the worker id, else the host name with a random suffix
// (several processes on one host are several nodes).
std::string cluster_node_id(const ServiceSettings& s) {
  if (!s.cluster.node_id.empty()) return s.cluster.node_id;
  if (!s.jobs.worker_id.empty()) return s.jobs.worker_id;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "node");
  return std::string(host) + "-" + gateway::random_token().substr(0, 8);
}

// The advertised host is one this server answers for: forwarded viewers arrive with it as Host.
ServiceSettings with_advertised_host(ServiceSettings s) {
  const auto& url = s.cluster.advertise_url;
  if (const auto scheme = url.find("://"); scheme != std::string::npos)
    s.http.allowed_hosts.push_back(RequestGuard::host_name(url.substr(scheme + 3)));
  return s;
}

}  // namespace

struct Service::Impl {
  ServiceSettings settings;
  Metrics metrics;
  std::unique_ptr<jobs::JobStore> database;  // SQLite or PostgreSQL (jobs.database)
  jobs::NotifyingJobStore store;             // the database; job changes wake the housekeeping thread (job gauges)
  storage::StorageSite site;
  Uploader uploader;
  JobRunner runner;
  boost::asio::io_context io;         // network I/O only: every connection and session on its own strand
  boost::asio::thread_pool blocking;  // HTTP handlers and downloads: database, storage, files
  gateway::SessionManager sessions;
  // Where the API finds sessions and links: this process alone, or the serving nodes of one PostgreSQL.
  std::unique_ptr<ClusterSessions> cluster;
  std::unique_ptr<ClusterTicket> tickets;  // with cluster.secret: forwarded viewers
  std::unique_ptr<SessionDirectory> directory;
  std::unique_ptr<HttpServer> http;
  std::vector<std::thread> io_threads;

  // Readiness and the job gauges: kept up to date in the background so that requests never wait on a slow
  // storage endpoint or the database.
  std::atomic<bool> storage_ok{true}, database_ok{true};
  std::string storage_error;  // guarded by health_mutex
  std::mutex health_mutex;
  std::condition_variable health_wake;
  bool stopping = false;
  std::mutex stop_mutex;     // held for the whole of stop(): a second caller returns only once the first is done
  std::thread stopper;       // runs stop() for a signal (stop() joins the io threads a handler would be on)
  bool io_running = false;   // run() runs the io_context; guarded by stop_mutex and health_mutex
  bool jobs_changed = true;  // guarded by health_mutex
  std::thread health_thread;

  explicit Impl(ServiceSettings s)
      : settings(with_advertised_host(std::move(s))),
        database(open_store(settings)),
        store(*database, [this] { kick_housekeeping(); }),
        site(storage::StorageSite::open(settings.storage_url)),
        uploader(store, site, metrics, settings.jobs),
        runner(store, uploader, metrics, settings),
        blocking(static_cast<std::size_t>(std::max(1, settings.blocking_threads))),
        sessions(
            io.get_executor(),
            [targets = settings.targets](const std::string& target) { return acquire_console(targets, target); },
            manager_options(settings, uploader)) {
    sessions.on_count_changed([this](std::size_t n) {
      metrics.set("vncgate_sessions", "Live console sessions", {}, static_cast<double>(n));
    });
    if (jobs::is_postgres_url(settings.database) && settings.role != ServiceRole::worker) {
      ClusterOptions options{settings.database, cluster_node_id(settings), settings.cluster.advertise_url,
                             settings.cluster.node_timeout};
      cluster = std::make_unique<ClusterSessions>(sessions, std::move(options));
      if (!settings.cluster.secret.empty()) tickets = std::make_unique<ClusterTicket>(settings.cluster.secret);
    } else {
      directory = std::make_unique<LocalSessionDirectory>(sessions);
    }
  }

  SessionDirectory& session_directory() { return cluster ? static_cast<SessionDirectory&>(*cluster) : *directory; }

  static std::unique_ptr<jobs::JobStore> open_store(const ServiceSettings& settings) {
    auto store = jobs::open_job_store(settings.database);
    spdlog::info("job store: {}", jobs::job_store_label(settings.database));
    return store;
  }

  void kick_housekeeping() {
    {
      std::lock_guard lock(health_mutex);
      jobs_changed = true;
    }
    health_wake.notify_all();
  }

  void refresh_job_gauges() {
    try {
      for (const auto& [state, n] : store.count_by_state())
        metrics.set("vncgate_jobs", "Recording jobs by state", {{"state", std::string(jobs::to_string(state))}},
                    static_cast<double>(n));
    } catch (const std::exception& e) {
      spdlog::warn("metrics: cannot count jobs: {}", e.what());
    }
  }

  void check_health() {
    try {
      const auto where = site.locate_job("vncgate-health-check");
      site.storage().probe(where.bucket, std::chrono::seconds(5));  // a stalled S3 fails it, but never holds it
      storage_ok = true;
    } catch (const std::exception& e) {
      if (storage_ok.exchange(false))
        spdlog::warn("storage {} is unreachable: {}", site.storage().describe(), e.what());
      std::lock_guard lock(health_mutex);
      storage_error = e.what();
    }
    try {
      store.count_by_state();
      database_ok = true;
    } catch (const std::exception& e) {
      if (database_ok.exchange(false)) spdlog::error("database: {}", e.what());
    }
  }

  // The dashboard, the console page and their scripts (web/ + the vendored noVNC), when there is a web root.
  void add_web_routes(Router& router) {
    std::string root = settings.web_root;
#ifdef VNCGATE_WEB_ROOT
    if (root.empty() && fs::is_directory(VNCGATE_WEB_ROOT)) root = VNCGATE_WEB_ROOT;
#endif
    if (root.empty()) return;
    auto file = [root](const std::string& path, const HttpRequest& request) {
      if (auto r = serve_static(root, path, request)) return *r;
      return json_error(404, "not_found", "no such page");
    };
    router.add(
        "GET", "/", [file](const HttpRequest& r) { return file("index.html", r); }, true);
    router.add(
        "GET", "/console/{token}", [file](const HttpRequest& r) { return file("console.html", r); }, true);
    // noVNC from its own directory (Debian's novnc package) instead of the web root's copy: core/ and vendor/.
    router.set_fallback([file, novnc = settings.novnc_dir](const HttpRequest& r) {
      if (!novnc.empty() && (r.path.starts_with("/novnc/core/") || r.path.starts_with("/novnc/vendor/"))) {
        if (auto found = serve_static(novnc, r.path.substr(7), r)) return *found;
        return json_error(404, "not_found", "no such page");
      }
      return file(r.path, r);
    });
  }

  Router routes() {
    Router router;
    if (settings.role != ServiceRole::worker) {  // a worker answers health checks and metrics only
      add_recording_routes(router, RecordingsApi{store, runner, site, settings, [this] { return storage_ok.load(); }});
      add_session_routes(router, SessionRoutes{session_directory(), sessions, blocking.get_executor(), tickets.get()},
                         settings);
      add_text_routes(router, sessions, store, blocking.get_executor());
    }
    router.add(
        "GET", "/healthz", [](const HttpRequest&) { return json_response(200, R"({"status":"ok"})"); }, true);
    router.add(
        "GET", "/readyz",
        [this](const HttpRequest&) {
          const bool ready = storage_ok && database_ok;
          json out = {
              {"status", ready ? "ready" : "not_ready"},
              {"checks", {{"database", database_ok ? "ok" : "failing"}, {"storage", storage_ok ? "ok" : "failing"}}}};
          return json_response(ready ? 200 : 503, out.dump());
        },
        true);
    router.add(
        "GET", "/metrics",
        [this](const HttpRequest&) {
          // Counters and gauges kept up to date elsewhere: a scrape never touches the database.
          metrics.set("vncgate_active_recordings", "Recordings running in this process", {}, runner.active());
          HttpResponse r;
          r.content_type = "text/plain; version=0.0.4; charset=utf-8";
          r.body = metrics.render();
          return r;
        },
        true);
    if (settings.role != ServiceRole::worker) add_web_routes(router);
    router.add(
        "GET", "/api/v1/openapi.yaml",
        [](const HttpRequest&) {
          HttpResponse r;
          r.content_type = "application/yaml";
          r.body = vncgate_openapi_yaml;
          return r;
        },
        true);
    return router;
  }
};

Service::Service(ServiceSettings settings) : impl_(std::make_unique<Impl>(std::move(settings))) {}

Service::~Service() {
  stop();
  if (impl_->stopper.joinable()) impl_->stopper.join();
}

void Service::start() {
  auto& d = *impl_;
  fs::create_directories(d.settings.jobs.work_dir);
  d.check_health();
  if (d.cluster) d.cluster->start();  // before the API answers: a misconfigured fleet fails here
  d.http = std::make_unique<HttpServer>(d.io, d.blocking.get_executor(), d.settings.http, d.routes(), d.metrics);
  d.uploader.start();
  // Live-session recordings a stop or crash left behind (uploaded files are removed from there).
  std::error_code ec;
  for (const auto& session : fs::directory_iterator(fs::path(d.settings.jobs.work_dir) / "sessions", ec))
    for (const auto& file : fs::directory_iterator(session.path(), ec))
      if (file.is_regular_file()) d.uploader.enqueue_to_bucket(session_bucket(session.path().filename()), file.path());
  if (d.settings.role != ServiceRole::api) d.runner.start();
  d.http->start();
  d.refresh_job_gauges();
  d.health_thread = std::thread([&d] {
    using clock = std::chrono::steady_clock;
    std::unique_lock lock(d.health_mutex);
    auto next_check = clock::now() + std::chrono::seconds(5);
    while (!d.stopping) {
      d.health_wake.wait_until(lock, next_check, [&d] { return d.stopping || d.jobs_changed; });
      if (d.stopping) break;
      const bool recount = std::exchange(d.jobs_changed, false);
      lock.unlock();
      if (recount) d.refresh_job_gauges();
      if (clock::now() >= next_check) {
        d.check_health();
        d.refresh_job_gauges();  // jobs other processes changed
        next_check = clock::now() + std::chrono::seconds(5);
      }
      lock.lock();
    }
  });
  spdlog::info("serve: listening on http://{}:{} (role {}, database {}, storage {}, {} recordings at once)",
               d.settings.http.bind, d.http->port(), role_name(d.settings.role),
               jobs::job_store_label(d.settings.database), d.site.storage().describe(),
               d.settings.role == ServiceRole::api ? 0 : d.settings.jobs.max_concurrent);
}

void Service::run(bool handle_signals) {
  auto& d = *impl_;
  {
    std::lock_guard whole(d.stop_mutex);
    std::lock_guard lock(d.health_mutex);
    if (d.stopping) return;
    d.io_running = true;
  }
  boost::asio::signal_set signals(d.io);
  if (handle_signals) {
    signals.add(SIGINT);
    signals.add(SIGTERM);
    signals.async_wait([this](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      spdlog::info("serve: signal {}, shutting down", signal);
      impl_->stopper = std::thread([this] { stop(); });
    });
  }
  auto work = boost::asio::make_work_guard(d.io);
  for (int i = 1; i < std::max(1, d.settings.io_threads); ++i) d.io_threads.emplace_back([&d] { d.io.run(); });
  d.io.run();
  for (auto& t : d.io_threads) t.join();
  d.io_threads.clear();
  // io.run() returns in the middle of stop(); the caller may destroy the service next.
  if (d.stopper.joinable()) d.stopper.join();
}

void Service::stop() {
  auto& d = *impl_;
  std::lock_guard whole(d.stop_mutex);
  {
    std::lock_guard lock(d.health_mutex);
    if (d.stopping) return;
    d.stopping = true;
  }
  d.health_wake.notify_all();
  // Shutting down waits for handlers on the io_context (sessions' strands); when start() failed or run() never
  // came, nobody else runs it.
  std::thread pump;
  if (!d.io_running) {
    pump = std::thread([&d] {
      auto work = boost::asio::make_work_guard(d.io);
      d.io.run();
    });
  }
  if (d.http) d.http->stop();
  if (d.cluster) d.cluster->stop();  // the others stop forwarding here; our rows go with this node's
  d.sessions.shutdown();
  d.runner.stop();                             // open segments closed
  d.uploader.drain(std::chrono::seconds(30));  // and uploaded, before their jobs are given up
  d.runner.release_held();
  d.uploader.stop();
  if (d.health_thread.joinable()) d.health_thread.join();
  d.io.stop();
  if (pump.joinable()) pump.join();
  d.blocking.join();  // handlers in progress finish; nothing new arrives
  spdlog::info("serve: stopped");
}

std::uint16_t Service::port() const { return impl_->http ? impl_->http->port() : 0; }

}  // namespace vncgate::service
