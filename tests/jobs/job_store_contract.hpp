// SPDX-License-Identifier: Apache-2.0
// The JobStore contract (src/jobs/job_store.hpp) as value-parameterised tests, written once and run against
// every backend: the unit tests instantiate it for SQLite (sqlite_job_store_test.cpp), the integration tests
// for a real PostgreSQL (tests/integration/postgres_job_store_test.cpp).
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "jobs/job_store.hpp"

namespace vncgate::jobs::test {

// The data of one test: every open() is a new store object (its own connection, as another process would
// have) on the same, initially empty, data.
class StoreSite {
 public:
  virtual ~StoreSite() = default;
  virtual std::unique_ptr<JobStore> open() = 0;
};

struct JobStoreBackend {
  std::string name;  // the test-name suffix
  std::function<std::unique_ptr<StoreSite>()> site;
  // Whether a store's waiters wake for work announced through another store object on the same data
  // (PostgreSQL: LISTEN/NOTIFY; SQLite: no, other processes find work by their timeout).
  bool wakes_across_stores = false;
};

inline std::string backend_name(const ::testing::TestParamInfo<JobStoreBackend>& info) { return info.param.name; }

class JobStoreContract : public ::testing::TestWithParam<JobStoreBackend> {
 protected:
  // A job and the fence its writes carry.
  struct Owned {
    Job job;
    Fence fence;
  };

  // A new job walked from queued to `state` along the shortest legal path; active and finished jobs are
  // claimed by `worker_` first (no other job may be queued then).
  Owned job_in(JobState state);

  // Initialised in declaration order (GetParam() is available in the constructor).
  std::unique_ptr<StoreSite> site_ = GetParam().site();
  std::unique_ptr<JobStore> owned_ = site_->open();
  JobStore& store_ = *owned_;
  Worker worker_{"worker-a", std::chrono::seconds(60)};
};

}  // namespace vncgate::jobs::test
