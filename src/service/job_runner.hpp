// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "jobs/job_store.hpp"
#include "record/recorder.hpp"
#include "service/metrics.hpp"
#include "service/settings.hpp"
#include "service/uploader.hpp"

namespace vncgate::service {

// Runs recording jobs: `max_concurrent` worker threads take queued jobs from the store (oldest first) and
// record each with a record::Recorder, writing every segment's state to the store before and after it is
// recorded; finished segments go to the Uploader. At start it picks up what a crash or restart left: running
// jobs resume with the next segment number, finished segments are uploaded once.
class JobRunner {
 public:
  JobRunner(jobs::JobStore& store, Uploader& uploader, Metrics& metrics, ServiceSettings settings);
  ~JobRunner();
  void start();  // recovery, then the workers
  // Closes every open segment cleanly and stops the workers. Interrupted jobs stay active in the store and
  // resume at the next start.
  void stop();
  void wake();  // a job was queued

  // Asks a running job's recorder to stop (the open segment is closed at this instant). False when the job
  // is not running in this process.
  bool cancel(const std::string& job_id);
  std::optional<record::Progress> progress(const std::string& job_id) const;
  int active() const;
  // The thumbnail file of a job (updated every few seconds while it records).
  std::string thumbnail_path(const std::string& job_id) const;

 private:
  struct Work {
    jobs::Job job;
    int first_number = 1;
    int remaining = 0;
    bool resumed = false;  // interrupted by a restart: its console was up before
  };
  struct Live {
    record::Recorder* recorder = nullptr;
    std::optional<record::Progress> progress;
  };
  void worker();
  std::optional<Work> next_work();
  void run(Work work);
  void recover();

  jobs::JobStore& store_;
  Uploader& uploader_;
  Metrics& metrics_;
  ServiceSettings settings_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Work> resumed_;  // jobs interrupted by a restart: they go before queued ones
  std::map<std::string, Live> live_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace vncgate::service
