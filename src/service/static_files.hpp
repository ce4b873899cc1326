// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "service/http_server.hpp"

namespace vncgate::service {

// The Content-Type for a file name by its extension ("application/octet-stream" when unknown).
std::string content_type_for(std::string_view file_name);

// The file `url_path` (decoded, relative to `web_root`, with or without one leading '/') as a response:
// 200 with the content, Content-Type, Cache-Control (no-cache: browsers revalidate, so a new binary's pages show
// at once, and an unchanged file costs a 304) and an ETag from size and modification time; 304 when
// If-None-Match names the current ETag. A malformed path ("..", ".", empty segments, an absolute path after
// the leading '/', backslashes, control characters) gets 400 `bad_path`. std::nullopt when there is no such
// regular file inside the web root, including a symlink that resolves outside it, so the caller answers 404.
// HEAD gets the GET response (the HTTP layer drops the body).
std::optional<HttpResponse> serve_static(const std::string& web_root, const std::string& url_path,
                                         const HttpRequest& request);

}  // namespace vncgate::service
