// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <set>

#include "jobs/job.hpp"

namespace vncgate::jobs {
namespace {

using enum JobState;

// The whole table from docs/jobs.md, written out so a change to the rules has to change this test too.
const std::set<std::pair<JobState, JobState>> kLegalJobTransitions = {
    {queued, connecting},   {queued, failed},     {queued, cancelled},     {connecting, recording},
    {connecting, queued},   {connecting, failed}, {connecting, cancelled}, {recording, connecting},
    {recording, uploading}, {recording, queued},  {recording, failed},     {recording, cancelled},
    {uploading, done},      {uploading, queued},  {uploading, failed},     {uploading, cancelled},
};

TEST(JobState, Transitions_MatchTheDocumentedTable_ForEveryPair) {
  for (auto from : kAllJobStates) {
    for (auto to : kAllJobStates) {
      EXPECT_EQ(is_allowed_transition(from, to), kLegalJobTransitions.contains({from, to}))
          << to_string(from) << " -> " << to_string(to);
    }
  }
}

TEST(JobState, TerminalAndActive_AreDisjoint) {
  for (auto state : kAllJobStates) {
    EXPECT_FALSE(is_terminal(state) && is_active(state)) << to_string(state);
  }
  EXPECT_TRUE(is_terminal(done));
  EXPECT_TRUE(is_active(uploading));
  EXPECT_FALSE(is_active(queued));
}

TEST(SegmentState, Transitions_MatchTheDocumentedTable_ForEveryPair) {
  using S = SegmentState;
  const std::set<std::pair<S, S>> legal = {
      {S::pending, S::recording}, {S::pending, S::finished},  {S::pending, S::failed}, {S::recording, S::finished},
      {S::recording, S::failed},  {S::finished, S::uploaded}, {S::finished, S::failed}};
  const S all[] = {S::pending, S::recording, S::finished, S::uploaded, S::failed};
  for (auto from : all) {
    for (auto to : all) {
      EXPECT_EQ(is_allowed_transition(from, to), legal.contains({from, to}))
          << to_string(from) << " -> " << to_string(to);
    }
  }
}

TEST(JobState, Names_RoundTrip_AndUnknownIsNullopt) {
  for (auto state : kAllJobStates) EXPECT_EQ(parse_job_state(to_string(state)), state);
  EXPECT_EQ(parse_segment_state("uploaded"), SegmentState::uploaded);
  EXPECT_FALSE(parse_job_state("running"));
  EXPECT_FALSE(parse_segment_state(""));
}

TEST(JobId, Is32HexDigits_AndUnique) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    auto id = new_job_id();
    ASSERT_EQ(id.size(), 32u);
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 1000u);
}

TEST(MaskTargetSecrets, HidesUrlPassword_KeepsEverythingElse) {
  EXPECT_EQ(mask_target_secrets("vnc://:s3cret@10.0.0.5:5901"), "vnc://:***@10.0.0.5:5901");
  EXPECT_EQ(mask_target_secrets("wss://user:pw@h/websockify?path=x@y"), "wss://user:***@h/websockify?path=x@y");
  EXPECT_EQ(mask_target_secrets("vnc://host:5900"), "vnc://host:5900");
  EXPECT_EQ(mask_target_secrets("vnc://user@host:5900"), "vnc://user@host:5900");
  EXPECT_EQ(mask_target_secrets("openstack:6f1d9a1e"), "openstack:6f1d9a1e");
}

TEST(Job, EnteredAt_IsTheLatestEntryOfThatState) {
  Job job;
  job.transitions = {{queued, 1, ""}, {connecting, 2, ""}, {recording, 3, ""}, {connecting, 4, ""}};
  EXPECT_EQ(job.entered_at(connecting), 4);
  EXPECT_EQ(job.entered_at(queued), 1);
  EXPECT_FALSE(job.entered_at(done));
}

}  // namespace
}  // namespace vncgate::jobs
