// SPDX-License-Identifier: Apache-2.0
#include "service/job_request.hpp"

#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "io/endpoint.hpp"
#include "providers/target.hpp"

namespace vncgate::service {

namespace {

using nlohmann::json;

Rejection bad(const std::string& code, const std::string& message) { return {400, code, message}; }

// A direct URL from an API client with a password, user or query (tokens): it would be stored with the job and
// shown back by the API. Credentials belong in the configuration, as named targets.
// Checked before parsing: a URL the parser refuses (a user name, say) still gets this answer.
std::optional<Rejection> credentials_in(const std::string& url) {
  if (url.find("://") == std::string::npos) return std::nullopt;
  if (url.find('@') == std::string::npos && url.find('?') == std::string::npos) return std::nullopt;
  return bad("credentials_in_target",
             "target URLs given to the API may not carry credentials (user, password or query); configure a named "
             "target in [targets] instead");
}

std::string kind_name(providers::TargetKind kind) {
  switch (kind) {
    case providers::TargetKind::openstack: return "openstack";
    case providers::TargetKind::proxmox: return "proxmox";
    default: return "direct";
  }
}

bool provider_configured(const std::string& provider) {
  auto set = [](const char* name) {
    const char* value = std::getenv(name);
    return value != nullptr && *value != '\0';
  };
  if (provider == "openstack") return set("OS_AUTH_URL") || set("OS_CLOUD");
  if (provider == "proxmox") return set("PROXMOX_URL");
  return true;
}

// An integer field: absent → nullopt; present but not an integral number within [lo, hi] → rejection.
std::variant<std::optional<std::int64_t>, Rejection> integer_field(const json& body, const char* name, std::int64_t lo,
                                                                   std::int64_t hi) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::optional<std::int64_t>{};
  double value = 0;
  if (it->is_number_integer() || it->is_number_unsigned()) {
    if (it->is_number_unsigned() && it->get<std::uint64_t>() > static_cast<std::uint64_t>(hi))
      return bad("invalid_field",
                 std::string(name) + " must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    value = static_cast<double>(it->get<std::int64_t>());
  } else if (it->is_number_float()) {
    value = it->get<double>();
    if (!std::isfinite(value) || value != std::floor(value))
      return bad("invalid_field", std::string(name) + " must be a whole number");
  } else {
    return bad("invalid_field", std::string(name) + " must be a number");
  }
  if (value < static_cast<double>(lo) || value > static_cast<double>(hi))
    return bad("invalid_field",
               std::string(name) + " must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  return std::optional<std::int64_t>{static_cast<std::int64_t>(value)};
}

}  // namespace

std::variant<ResolvedTarget, Rejection> resolve_target(const TargetSettings& targets, const std::string& server,
                                                       const std::optional<std::string>& provider) {
  if (provider && *provider != "direct" && *provider != "openstack" && *provider != "proxmox")
    return bad("unknown_provider", "provider must be openstack, proxmox or direct");
  if (auto named = targets.named.find(server); named != targets.named.end()) {
    std::string error;
    auto parsed = providers::parse_target(named->second, &error);
    if (!parsed) return Rejection{500, "bad_target_config", "the configured target '" + server + "' is invalid"};
    const auto kind = kind_name(parsed->kind);
    if (!provider || *provider == kind)
      return ResolvedTarget{named->second, kind, server + " (" + parsed->describe() + ")"};
  }
  const std::string chosen = provider.value_or(targets.default_provider);
  if (chosen == "direct") {
    // Only URLs beyond the named targets; the allow-list is checked when connecting.
    if (auto refused = credentials_in(server)) return *refused;
    std::string error;
    auto parsed = providers::parse_target(server, &error);
    if (!parsed || parsed->kind != providers::TargetKind::direct)
      return Rejection{404, "unknown_server", "no target named '" + server + "' is configured"};
    return ResolvedTarget{server, "direct", parsed->describe()};
  }
  if (!provider_configured(chosen))
    return bad("unknown_provider", "provider " + chosen + " is not configured on this server");
  std::string error;
  auto parsed = providers::parse_target(chosen + ":" + server, &error);
  if (!parsed) return bad("invalid_field", "server: " + error);
  return ResolvedTarget{chosen + ":" + server, chosen, parsed->describe()};
}

std::variant<ResolvedTarget, Rejection> resolve_console(const TargetSettings& targets, const std::string& text) {
  if (targets.named.count(text)) return resolve_target(targets, text, std::nullopt);
  if (auto refused = credentials_in(text)) return *refused;
  auto parsed = providers::parse_target(text);
  if (!parsed) return Rejection{404, "unknown_target", "no target named '" + text + "' is configured"};
  if (parsed->kind == providers::TargetKind::direct) {
    return ResolvedTarget{text, "direct", parsed->describe()};
  }
  const auto kind = kind_name(parsed->kind);
  return resolve_target(targets, text.substr(kind.size() + 1), kind);
}

providers::DirectSettings direct_settings(const TargetSettings& targets) {
  providers::DirectSettings direct;
  direct.allow = providers::AllowList(targets.allow_loopback);
  for (const auto& entry : targets.allow) direct.allow.add(entry);
  return direct;
}

std::optional<Rejection> check_allowed(const TargetSettings& targets, const ResolvedTarget& resolved) {
  if (resolved.provider != "direct") return std::nullopt;
  const auto url = io::parse_url(resolved.target);
  if (url && direct_settings(targets).allow.allows_host(url->host)) return std::nullopt;
  return Rejection{403, "target_not_allowed",
                   "this target is not on the allow-list (providers.allow; this host's own ports need "
                   "providers.allow_loopback)"};
}

std::variant<jobs::NewJob, Rejection> parse_job_request(const std::string& body_text, const ServiceSettings& settings) {
  json body = json::parse(body_text, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return bad("malformed_json", "the request body is not valid JSON");
  if (!body.is_object()) return bad("invalid_body", "the request body must be a JSON object");

  auto server = body.find("server");
  if (server == body.end() || server->is_null()) return bad("missing_field", "server is required");
  if (!server->is_string() || server->get<std::string>().empty() || server->get<std::string>().size() > 256)
    return bad("invalid_field", "server must be a non-empty string of at most 256 characters");
  std::optional<std::string> provider;
  if (auto p = body.find("provider"); p != body.end() && !p->is_null()) {
    if (!p->is_string()) return bad("invalid_field", "provider must be a string");
    provider = p->get<std::string>();
  }

  jobs::NewJob job;
  job.server = server->get<std::string>();
  const auto& limits = settings.jobs;
  for (auto [name, lo, hi, required] : {std::tuple{"duration", std::int64_t{1}, limits.max_duration_s, true},
                                        std::tuple{"count", std::int64_t{1}, std::int64_t{limits.max_count}, true},
                                        std::tuple{"width", std::int64_t{16}, std::int64_t{8192}, false},
                                        std::tuple{"height", std::int64_t{16}, std::int64_t{8192}, false},
                                        std::tuple{"quality", std::int64_t{0}, std::int64_t{51}, false},
                                        std::tuple{"fps", std::int64_t{1}, std::int64_t{60}, false}}) {
    auto field = integer_field(body, name, lo, hi);
    if (auto* rejection = std::get_if<Rejection>(&field)) return *rejection;
    auto value = std::get<std::optional<std::int64_t>>(field);
    if (!value) {
      if (required) return bad("missing_field", std::string(name) + " is required");
      continue;
    }
    if (std::string_view(name) == "duration")
      job.duration_s = *value;
    else if (std::string_view(name) == "count")
      job.count = static_cast<int>(*value);
    else if (((std::string_view(name) == "width" || std::string_view(name) == "height") && *value % 2 != 0))
      return bad("invalid_field", std::string(name) + " must be even (H.264 4:2:0)");
    else
      job.encoder_options[name] = *value;
  }
  if (job.duration_s * job.count > limits.max_total_s)
    return bad("job_too_long", "duration × count is " + std::to_string(job.duration_s * job.count) +
                                   " s, more than jobs.max_total_s (" + std::to_string(limits.max_total_s) + " s)");
  if (job.encoder_options.contains("width") != job.encoder_options.contains("height"))
    return bad("invalid_field", "width and height go together");
  for (const char* flag : {"fbs", "lossless"}) {
    if (auto it = body.find(flag); it != body.end() && !it->is_null()) {
      if (!it->is_boolean()) return bad("invalid_field", std::string(flag) + " must be true or false");
      job.encoder_options[flag] = it->get<bool>();
    }
  }
  if (auto chroma = body.find("chroma"); chroma != body.end() && !chroma->is_null()) {
    const auto parsed = chroma->is_string() ? record::parse_chroma(chroma->get<std::string>()) : std::nullopt;
    if (!parsed) return bad("invalid_field", "chroma must be \"444\" or \"420\"");
    job.encoder_options["chroma"] = record::chroma_name(*parsed);
  }

  auto resolved = resolve_target(settings.targets, job.server, provider);
  if (auto* rejection = std::get_if<Rejection>(&resolved)) return *rejection;
  auto& target = std::get<ResolvedTarget>(resolved);
  job.provider = target.provider;
  job.target = target.label;
  return job;
}

JobEncoding job_encoding(const jobs::Job& job, const RecordingDefaults& defaults) {
  const auto& o = job.encoder_options;
  JobEncoding encoding;
  auto& e = encoding.encoder;
  e.width = o.value("width", defaults.width);
  e.height = o.value("height", defaults.height);
  e.fps = o.value("fps", defaults.fps);
  e.crf = o.value("quality", defaults.quality);
  e.preset = defaults.preset;
  e.lossless = o.value("lossless", false);
  e.chroma = record::parse_chroma(o.value("chroma", std::string())).value_or(defaults.chroma);
  encoding.fbs = o.value("fbs", defaults.fbs);
  encoding.reconnect_timeout_s = defaults.reconnect_timeout_s;
  encoding.connect_grace_s = defaults.connect_grace_s;
  return encoding;
}

}  // namespace vncgate::service
