// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <optional>
#include <string>
#include <variant>

#include "jobs/job.hpp"
#include "providers/direct/direct_provider.hpp"
#include "record/recorder.hpp"
#include "service/settings.hpp"

namespace vncgate::service {

// A request the API turns down: status, machine-readable code and a message for people. Bad input is an
// ordinary outcome, so it is returned, not thrown.
struct Rejection {
  int status = 400;
  std::string code;
  std::string message;
};

// Where a job's `server` points. `target` may hold secrets (a named target's password): it is used to
// connect and never stored; `label` is what the job store, logs and the API show.
struct ResolvedTarget {
  std::string target;
  std::string provider;  // "direct", "openstack" or "proxmox"
  std::string label;
};

// `server` as a named target (config [targets]) or `provider:server`. The worker resolves a stored job the
// same way, so the secrets of named targets stay in the configuration.
std::variant<ResolvedTarget, Rejection> resolve_target(const TargetSettings& targets, const std::string& server,
                                                       const std::optional<std::string>& provider);

// A live console's `target`: a named target, or a target string (openstack:ID, proxmox:NODE/qemu/VMID,
// vnc://…; direct URLs still pass the allow-list when connecting).
std::variant<ResolvedTarget, Rejection> resolve_console(const TargetSettings& targets, const std::string& text);

// What direct targets may reach (providers.allow, providers.allow_loopback).
providers::DirectSettings direct_settings(const TargetSettings& targets);

// Whether a resolved direct target's host is on the allow-list (blocking: it may resolve a name), so that the
// API refuses a forbidden target before it answers; nullopt for other providers and allowed hosts.
std::optional<Rejection> check_allowed(const TargetSettings& targets, const ResolvedTarget& resolved);

// The body of POST /record and POST /api/v1/recordings, checked against the limits and defaults; the job is
// not created yet (the caller does, after checking storage).
std::variant<jobs::NewJob, Rejection> parse_job_request(const std::string& body, const ServiceSettings& settings);

// The encoder and capture settings a stored job asked for (its encoder_options over the defaults).
struct JobEncoding {
  record::EncoderSettings encoder;
  bool fbs = false;
  int reconnect_timeout_s = 60;
  int connect_grace_s = 10;
};
JobEncoding job_encoding(const jobs::Job& job, const RecordingDefaults& defaults);

}  // namespace vncgate::service
