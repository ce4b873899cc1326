// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <optional>
#include <string>

namespace vncgate::providers {

enum class TargetKind { direct, openstack, proxmox };
enum class ProxmoxGuest { qemu, lxc, node };

// A console as a user names it on the command line or in an API call:
//   vnc://, vncs://, ws://, wss:// URLs       -> direct (url)
//   openstack:SERVER_ID                      -> openstack (server_id)
//   proxmox:NODE/qemu/VMID, NODE/lxc/VMID    -> proxmox (node, guest, vmid)
//   proxmox:NODE/node                        -> proxmox node shell (node, guest = node)
struct Target {
  TargetKind kind = TargetKind::direct;
  std::string url;        // direct
  std::string server_id;  // openstack
  std::string node;       // proxmox
  ProxmoxGuest guest = ProxmoxGuest::qemu;
  std::string vmid;  // proxmox qemu/lxc

  // A short name for messages ("openstack server 1234…", "proxmox pve1/qemu/100", a redacted URL).
  std::string describe() const;
};

// nullopt (reason in `error`) when the text is none of the forms above or a part has invalid characters
// (names end up in API paths, so only what Nova and Proxmox allow there is accepted).
std::optional<Target> parse_target(const std::string& text, std::string* error = nullptr);

}  // namespace vncgate::providers
