// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "jobs/sqlite/database.hpp"

namespace vncgate::jobs::sqlite {

// The newest schema this build knows.
int latest_schema_version();

// Brings the database to latest_schema_version(): each missing migration runs in its own transaction and is
// recorded in schema_migrations(version, name, applied_unix_ms). Throws StorageError when the file was
// written by a newer vncgate (a schema version above the latest), so an old binary never misreads it.
// Returns the version the database had before. `up_to` stops earlier (tests of an upgrade).
int migrate(Database& db, int up_to = latest_schema_version());

}  // namespace vncgate::jobs::sqlite
