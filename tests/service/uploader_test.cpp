// SPDX-License-Identifier: Apache-2.0
// The uploader's fencing: storage has none of its own, so a worker that lost a job (another claim holds a newer
// fencing token) must not put anything of it into storage — not a finished segment, not its FBS file; and a
// finished segment whose file went with its dead worker fails with the reason. A real SQLite job store and a
// real file:// storage directory.
#include "service/uploader.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "jobs/sqlite/sqlite_job_store.hpp"
#include "support/process.hpp"

namespace vncgate::service {
namespace {

using namespace std::chrono_literals;
using test::TempDir;

class UploaderFencingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    settings_.upload_retry = 1s;
    settings_.keep_local = true;
    job_ = store_.create(jobs::NewJob{.bucket_id = "rec-fenced",
                                      .server = "demo",
                                      .target = "vnc://127.0.0.1:1",
                                      .provider = "direct",
                                      .duration_s = 2,
                                      .count = 2});
    // Worker A records segment 1 and finishes it (and an FBS file) under a lease so short that it is over at once.
    owner_a_ = store_.claim(jobs::Worker{"worker-a", 1ms}).value().lease.fence;
    mp4_ = write(dir_.file("segment-001.mp4"), "not really an mp4");
    fbs_ = write(dir_.file("recording.fbs"), "FBS 001.000\n");
    jobs::Segment segment;
    segment.index = 1;
    segment.state = jobs::SegmentState::recording;
    segment.local_path = mp4_;
    store_.upsert_segment(owner_a_, segment);
    jobs::FinishedSegment finished;
    finished.local_path = mp4_;
    finished.bytes = 17;
    finished.duration_ms = 2000;
    finished.frames = 1;
    finished.sha256 = std::string(64, '0');
    store_.finish_segment(owner_a_, 1, finished);
  }

  static std::string write(const std::string& path, const std::string& text) {
    std::ofstream(path) << text;
    return path;
  }
  // Runs an uploader of its own on segment 1 (and the FBS file when `with_fbs`) under `fence` until it is idle.
  void upload_as(jobs::Fence fence, bool with_fbs = false) {
    Uploader uploader(store_, site_, metrics_, settings_);
    uploader.start();
    uploader.enqueue_segment(fence, 1);
    if (with_fbs) uploader.enqueue_file(fence, fbs_);
    uploader.drain(10s);
    uploader.stop();
  }
  std::vector<std::string> stored() const {
    const auto where = site_.locate_job(job_.bucket_id);
    std::vector<std::string> keys;
    for (const auto& o : site_.storage().list(where.bucket, where.prefix)) keys.push_back(o.key);
    return keys;
  }

  TempDir dir_{"vncgate-uploader"};
  jobs::SqliteJobStore store_{jobs::SqliteOptions{dir_.file("jobs.db")}};
  storage::StorageSite site_ = storage::StorageSite::open("file://" + dir_.file("storage"));
  Metrics metrics_;
  JobSettings settings_;
  jobs::Job job_;
  jobs::Fence owner_a_;
  std::string mp4_, fbs_;
};

TEST_F(UploaderFencingTest, AWorkerThatLostTheJobPutsNothingIntoStorage_TheNewOwnerDoes) {
  std::this_thread::sleep_for(20ms);  // A's lease is over: B takes the job over
  auto taken = store_.claim(jobs::Worker{"worker-b", 20s});
  ASSERT_TRUE(taken && taken->taken_over);
  ASSERT_EQ(taken->to_upload.size(), 1u);

  upload_as(owner_a_, true);  // the stale worker
  EXPECT_TRUE(stored().empty()) << "the fenced-out worker uploaded " << stored().front();
  EXPECT_EQ(store_.segment(job_.id, 1)->state, jobs::SegmentState::finished);

  upload_as(taken->lease.fence);
  EXPECT_EQ(store_.segment(job_.id, 1)->state, jobs::SegmentState::uploaded);
  EXPECT_EQ(stored(), (std::vector<std::string>{"segment-001.mp4"}));
}

TEST_F(UploaderFencingTest, DroppedFenceLeavesItsQueuedItemsUnuploaded) {
  Uploader uploader(store_, site_, metrics_, settings_);
  uploader.enqueue_segment(owner_a_, 1);
  uploader.enqueue_file(owner_a_, fbs_);
  uploader.drop(owner_a_);  // the job runner learnt it lost the job
  uploader.start();
  uploader.drain(10s);
  uploader.stop();
  EXPECT_TRUE(stored().empty());
  EXPECT_EQ(store_.segment(job_.id, 1)->state, jobs::SegmentState::finished);
}

// Worker A died before uploading, and its jobs.work_dir is not this node's: the new owner does not find the file.
// The segment fails with the reason at once (it is not retried forever, which kept the job `uploading`)...
TEST_F(UploaderFencingTest, AFileLostWithItsWorker_FailsTheSegmentWithTheReason) {
  std::filesystem::remove(mp4_);
  std::this_thread::sleep_for(20ms);
  auto taken = store_.claim(jobs::Worker{"worker-b", 20s});
  ASSERT_TRUE(taken && taken->taken_over);
  upload_as(taken->lease.fence);
  const auto segment = store_.segment(job_.id, 1);
  EXPECT_EQ(segment->state, jobs::SegmentState::failed);
  EXPECT_NE(segment->error.find("is not on this node"), std::string::npos) << segment->error;
  EXPECT_EQ(segment->upload_attempts, 0) << "not retried";
  EXPECT_TRUE(stored().empty());
}

// ...unless worker A's upload had completed and only the store's note of it was lost: then it is uploaded.
TEST_F(UploaderFencingTest, AFileAlreadyInStorage_IsMarkedUploaded) {
  const auto where = site_.locate_job(job_.bucket_id);
  site_.storage().ensure_bucket(where.bucket);
  site_.storage().put_file(where.bucket, where.prefix + "segment-001.mp4", mp4_);
  std::filesystem::remove(mp4_);
  std::this_thread::sleep_for(20ms);
  auto taken = store_.claim(jobs::Worker{"worker-b", 20s});
  ASSERT_TRUE(taken);
  upload_as(taken->lease.fence);
  EXPECT_EQ(store_.segment(job_.id, 1)->state, jobs::SegmentState::uploaded);
}

}  // namespace
}  // namespace vncgate::service
