// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>
#include <string>

#include "jobs/job_store.hpp"

namespace vncgate::jobs {

// The store `database` names (config jobs.database): a postgresql:// (or postgres://) URL opens a
// PostgresJobStore, anything else is a SQLite file path (its directory is created). Throws StorageError
// when it cannot be opened.
std::unique_ptr<JobStore> open_job_store(const std::string& database);

// `database` for messages: the URL with its credentials masked, or the path.
std::string job_store_label(const std::string& database);

}  // namespace vncgate::jobs
