// SPDX-License-Identifier: Apache-2.0
#include "jobs/job.hpp"

#include <openssl/rand.h>

#include <array>

namespace vncgate::jobs {
namespace {

constexpr std::array<std::string_view, 7> kJobStateNames = {"queued", "connecting", "recording", "uploading",
                                                            "done",   "failed",     "cancelled"};
constexpr std::array<std::string_view, 5> kSegmentStateNames = {"pending", "recording", "finished", "uploaded",
                                                                "failed"};

template <typename Enum, std::size_t N>
std::optional<Enum> parse_enum(const std::array<std::string_view, N>& names, std::string_view text) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == text) return static_cast<Enum>(i);
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(JobState state) { return kJobStateNames.at(static_cast<std::size_t>(state)); }
std::string_view to_string(SegmentState state) { return kSegmentStateNames.at(static_cast<std::size_t>(state)); }

std::optional<JobState> parse_job_state(std::string_view text) { return parse_enum<JobState>(kJobStateNames, text); }
std::optional<SegmentState> parse_segment_state(std::string_view text) {
  return parse_enum<SegmentState>(kSegmentStateNames, text);
}

bool is_terminal(JobState state) {
  return state == JobState::done || state == JobState::failed || state == JobState::cancelled;
}

bool is_active(JobState state) {
  return state == JobState::connecting || state == JobState::recording || state == JobState::uploading;
}

bool is_allowed_transition(JobState from, JobState to) {
  using enum JobState;
  if (is_terminal(from)) return false;
  // Any live job may fail or be cancelled; an active one may go back to the queue (restart, back-off).
  if (to == failed || to == cancelled) return true;
  if (to == queued) return is_active(from);
  switch (from) {
    case queued: return to == connecting;
    case connecting: return to == recording;
    // recording → connecting: the upstream was lost, or a resumed job reconnects after a restart.
    case recording: return to == connecting || to == uploading;
    case uploading: return to == done;
    default: return false;
  }
}

bool is_allowed_transition(SegmentState from, SegmentState to) {
  using enum SegmentState;
  switch (from) {
    case pending: return to == recording || to == finished || to == failed;
    case recording: return to == finished || to == failed;
    case finished: return to == uploaded || to == failed;  // failed: its file was lost with its worker
    default: return false;                                 // uploaded and failed are final
  }
}

InvalidTransition::InvalidTransition(const std::string& what, std::string_view from, std::string_view to)
    : UsageError(what + ": cannot go from " + std::string(from) + " to " + std::string(to)) {}

FencedOut::FencedOut(const std::string& job_id, std::int64_t token, std::int64_t current, const std::string& owner)
    : UsageError("job " + job_id + ": fencing token " + std::to_string(token) +
                 " is stale (the job was claimed again, token " + std::to_string(current) +
                 (owner.empty() ? std::string() : ", by worker " + owner) + "); this worker no longer owns it"),
      token_(token),
      current_(current) {}

std::optional<std::int64_t> Job::entered_at(JobState wanted) const {
  for (auto it = transitions.rbegin(); it != transitions.rend(); ++it) {
    if (it->state == wanted) return it->at_unix_ms;
  }
  return std::nullopt;
}

std::string new_job_id() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    throw StorageError("cannot make a job id: the OpenSSL random generator failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  for (unsigned char b : bytes) {
    id += kHex[b >> 4];
    id += kHex[b & 0xf];
  }
  return id;
}

std::string mask_target_secrets(std::string_view target) {
  // Only URLs carry a password inline: scheme://user:password@host.
  auto scheme_end = target.find("://");
  if (scheme_end == std::string_view::npos) return std::string(target);
  auto authority_start = scheme_end + 3;
  auto authority_end = target.find_first_of("/?#", authority_start);
  auto at = target.rfind('@', authority_end == std::string_view::npos ? target.size() : authority_end);
  if (at == std::string_view::npos || at < authority_start) return std::string(target);
  auto colon = target.find(':', authority_start);
  if (colon == std::string_view::npos || colon > at) return std::string(target);
  return std::string(target.substr(0, colon + 1)) + "***" + std::string(target.substr(at));
}

}  // namespace vncgate::jobs
