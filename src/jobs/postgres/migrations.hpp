// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "jobs/postgres/connection.hpp"

namespace vncgate::jobs::postgres {

// The newest schema this build knows (numbered like the SQLite schema: version 2 has leases).
int latest_schema_version();

// Brings the database to latest_schema_version(): each missing migration runs in its own transaction and is
// recorded in schema_migrations(version, name, applied_unix_ms). Processes starting together take turns (an
// advisory lock), so each migration runs once. Throws StorageError when the database was written by a newer
// vncgate. Returns the version the database had before.
int migrate(Connection& connection);

}  // namespace vncgate::jobs::postgres
