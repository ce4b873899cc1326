// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "jobs/job_store.hpp"
#include "service/metrics.hpp"
#include "service/settings.hpp"
#include "storage/storage.hpp"

namespace vncgate::service {

// Moves finished segments (MP4 + sidecar + transcript) and a job's FBS files from the work directory to storage, one at
// a time on its own thread. A failed upload is counted in the job store and tried again after `upload_retry`, forever:
// the local file is never dropped. A job in `uploading` becomes `done` once nothing of it is left to upload.
class Uploader {
 public:
  Uploader(jobs::JobStore& store, const storage::StorageSite& site, Metrics& metrics, JobSettings settings);
  ~Uploader();
  void start();
  void stop();  // waits for the upload in progress; what is queued stays recorded for the next start
  // Waits up to `timeout` until nothing is due or in flight (retries waiting for later do not count): a
  // draining worker uploads the segments it just closed before it gives their jobs up.
  void drain(std::chrono::milliseconds timeout);

  // Segment `index` of `fence.job_id` is being written at `local_path`: its upload may start before it is
  // finished (S3 multipart parts stream while it grows). The segment is still uploaded by enqueue_segment().
  void segment_growing(const jobs::Fence& fence, int index, const std::string& local_path);
  // Store writes about the segment (uploaded, upload failed) carry `fence`. Fencing: before anything of a job
  // goes to storage its fence is checked against the store; once it is stale (another worker took the job
  // over) the item is dropped without an upload, so a paused or partitioned worker does not write over its
  // successor.
  void enqueue_segment(const jobs::Fence& fence, int index);
  // Extra files of a job (the FBS stream and its index), uploaded next to the segments.
  void enqueue_file(const jobs::Fence& fence, const std::string& local_path);
  // A file that belongs to no job (a live session's recording) into `bucket_id`'s place in storage.
  void enqueue_to_bucket(const std::string& bucket_id, const std::string& local_path);
  // The recorder of `job_id` has finished: the job is done once its uploads are.
  void job_recorded(const jobs::Fence& fence);
  // This worker lost the job (fenced out): whatever is queued or streaming under `fence` is dropped, not
  // uploaded. The local files stay in the work directory.
  void drop(const jobs::Fence& fence);

 private:
  struct Item {
    std::string job_id;
    std::int64_t token = 0;  // the job's fencing token (jobs::Fence)
    int index = 0;           // a segment; 0 = `path` is an extra file
    std::string path;
    std::string bucket_id;  // set for files of no job
    std::chrono::steady_clock::time_point ready_at;
  };
  struct Growing {
    std::string job_id;
    std::int64_t token = 0;
    int index = 0;
    std::string path;
    std::unique_ptr<storage::GrowingUpload> upload;  // created on the uploader thread (it may touch the network)
    std::uint64_t reported = 0;
  };
  void loop();
  void feed_growing();            // uploader thread only
  bool upload(const Item& item);  // true when done (or nothing to do), false to retry later
  void finish_if_complete(const jobs::Fence& fence);
  bool settle_lost(const jobs::Fence& fence, const jobs::Segment& segment, const std::string& bucket,
                   const std::string& key);
  bool pending_for(const std::string& job_id) const;  // caller holds mutex_
  // False (logged) when the store holds a newer fencing token for the job than `token`: not ours to upload.
  bool still_owned(const jobs::Job& job, std::int64_t token, const std::string& what) const;

  jobs::JobStore& store_;
  const storage::StorageSite& site_;
  Metrics& metrics_;
  JobSettings settings_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Item> queue_;
  std::set<std::string> in_flight_;                         // job ids with an upload running right now
  std::deque<Growing> growing_requests_;                    // from the recorders, under mutex_
  std::map<std::pair<std::string, int>, Growing> growing_;  // uploader thread only
  std::set<std::pair<std::string, std::int64_t>> dropped_;  // fences given up (drop()), under mutex_
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace vncgate::service
