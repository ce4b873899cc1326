// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <string_view>

namespace vncgate {

// Appends `text` with control characters escaped (\n, \r, \t, \xHH; a backslash doubled). Every log line goes
// through it (util/log.cpp's formatter), so outside text cannot forge log lines.
void escape_control(std::string_view text, std::string& out);

}  // namespace vncgate
