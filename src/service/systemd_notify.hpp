// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string_view>

namespace vncgate::service {

// sd_notify(3) without libsystemd: sends `state` ("READY=1\nSTATUS=…", "STOPPING=1", "RELOADING=1") as one
// datagram to the AF_UNIX socket named by $NOTIFY_SOCKET (a path, or "@name" for the abstract namespace), which
// systemd sets for Type=notify units. Returns false when the variable is unset (not under systemd: nothing to
// do) or the datagram could not be sent (logged once at debug level: readiness is advisory, never fatal).
bool systemd_notify(std::string_view state);

}  // namespace vncgate::service
