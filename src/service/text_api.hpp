// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include "gateway/session_manager.hpp"
#include "jobs/job_store.hpp"
#include "service/http_server.hpp"

namespace vncgate::service {

// Console text over the API (docs/text.md):
//   GET  /api/v1/sessions/{id}/text  a live session's screen as text (409 not_text when it is not a text screen)
//   POST /api/v1/sessions/{id}/wait  {"text": "login:", "timeout": 120}: answers once the text is on screen,
//                                    408 at the timeout; the wait holds no thread (a timer on the connection's
//                                    strand, woken by the session's text reader)
//   GET  /api/v1/search?q=…          transcript lines of recordings (SQLite FTS5 / PostgreSQL full text)
// Screens are read on `reader` (the blocking pool), never on a session's strand.
void add_text_routes(Router& router, gateway::SessionManager& sessions, jobs::JobStore& store,
                     boost::asio::any_io_executor reader);

}  // namespace vncgate::service
