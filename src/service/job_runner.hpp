// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "jobs/job_store.hpp"
#include "record/recorder.hpp"
#include "service/metrics.hpp"
#include "service/settings.hpp"
#include "service/uploader.hpp"

namespace vncgate::service {

// Runs recording jobs: `max_concurrent` worker threads claim jobs from the store (oldest first) and record each
// with a record::Recorder, writing every segment's state to the store before and after it is recorded, each
// write fenced with the claim's token; finished segments go to the Uploader. At start it takes back what a crash
// or restart left (recover_after_restart under its worker id): running jobs resume with the next segment
// number, finished segments are uploaded once. Jobs another worker left with an expired lease are taken over
// the same way when claimed. A heartbeat thread renews the lease of every job this process holds; when a
// renewal is fenced out (this process was paused or cut off past its lease and another worker took the job
// over) the job's recorder stops at once and nothing more is written for it. Idle workers sleep in
// JobStore::wait_for_work (woken by new jobs, in any process with PostgreSQL) and look for expired leases
// every heartbeat.
class JobRunner {
 public:
  JobRunner(jobs::JobStore& store, Uploader& uploader, Metrics& metrics, ServiceSettings settings);
  ~JobRunner();
  void start();  // recovery, then the workers
  // Closes every open segment cleanly and stops the workers. Interrupted jobs stay active in the store, their
  // leases still renewed until release_held().
  void stop();
  // Drain, after stop() (and the uploads): gives up every job this process still holds, so that another worker
  // takes it over at once instead of after the lease (or this worker takes it back at its next start).
  void release_held();
  void wake();  // a job was queued

  // Asks a running job's recorder to stop (the open segment is closed at this instant). False when the job
  // is not running in this process.
  bool cancel(const std::string& job_id);
  std::optional<record::Progress> progress(const std::string& job_id) const;
  int active() const;
  // The thumbnail file of a job (updated every few seconds while it records).
  std::string thumbnail_path(const std::string& job_id) const;
  // The job's own directory under jobs.work_dir: its files while it records and until they are uploaded.
  std::string work_dir_of(const std::string& job_id) const;

 private:
  struct Work {
    jobs::Job job;
    int first_number = 1;
    int remaining = 0;
    bool resumed = false;  // interrupted by a restart or taken over: its console was up before
    jobs::Fence fence;     // carried by every write of the job
  };
  struct Live {
    record::Recorder* recorder = nullptr;
    std::optional<record::Progress> progress;
  };
  void worker();
  std::optional<Work> next_work();
  void run(Work work);
  void recover();
  // What a claimed job needs: its saved segments queued for upload, and recording work unless it is over
  // (cancelled, or nothing left to record: then it goes on to uploading).
  std::optional<Work> adopt(const jobs::ClaimedJob& claimed);
  void hold(const jobs::Fence& fence);
  void heartbeat();
  void renew_leases();
  // Another worker owns the job now: stop its recorder, forget it.
  void lose(const jobs::Fence& fence, const std::string& why);

  jobs::JobStore& store_;
  jobs::Worker worker_;  // who this process is in the store
  Uploader& uploader_;
  Metrics& metrics_;
  ServiceSettings settings_;
  mutable std::mutex mutex_;
  std::deque<Work> resumed_;  // jobs interrupted by a restart: they go before queued ones
  std::map<std::string, Live> live_;
  std::map<std::string, jobs::Fence> held_;  // active jobs this process owns: their leases are renewed
  std::set<std::string> lost_;               // fenced out while running here
  bool stopping_ = false;
  std::vector<std::thread> workers_;
  std::condition_variable beat_;
  bool beating_ = false;
  std::thread heartbeat_;
};

}  // namespace vncgate::service
