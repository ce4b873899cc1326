// SPDX-License-Identifier: Apache-2.0
#include "providers/target.hpp"

#include <algorithm>
#include <cctype>

#include "io/endpoint.hpp"

namespace vncgate::providers {
namespace {

std::optional<Target> fail(std::string* error, std::string reason) {
  if (error != nullptr) *error = std::move(reason);
  return std::nullopt;
}

bool all_of(const std::string& s, bool (*ok)(unsigned char)) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [ok](char c) { return ok(static_cast<unsigned char>(c)); });
}

// Nova server ids are UUIDs; older deployments and tests use other ids of the same alphabet.
bool server_id_char(unsigned char c) { return std::isalnum(c) != 0 || c == '-' || c == '_'; }
// Proxmox node names are DNS labels (pve-node pattern).
bool node_char(unsigned char c) { return std::isalnum(c) != 0 || c == '-' || c == '.'; }
bool digit(unsigned char c) { return std::isdigit(c) != 0; }

}  // namespace

std::string Target::describe() const {
  switch (kind) {
    case TargetKind::direct: return io::redact_url(url);
    case TargetKind::openstack: return "openstack server " + server_id;
    case TargetKind::proxmox:
      if (guest == ProxmoxGuest::node) return "proxmox node shell " + node;
      return "proxmox " + node + (guest == ProxmoxGuest::qemu ? "/qemu/" : "/lxc/") + vmid;
  }
  return "?";
}

std::optional<Target> parse_target(const std::string& text, std::string* error) {
  Target t;
  if (text.rfind("openstack:", 0) == 0) {
    t.kind = TargetKind::openstack;
    t.server_id = text.substr(10);
    if (!all_of(t.server_id, server_id_char)) {
      return fail(error, "expected openstack:SERVER_ID (letters, digits, '-', '_')");
    }
    return t;
  }
  if (text.rfind("proxmox:", 0) == 0) {
    t.kind = TargetKind::proxmox;
    const std::string rest = text.substr(8);
    const auto a = rest.find('/');
    const auto b = a == std::string::npos ? a : rest.find('/', a + 1);
    const std::string usage = "expected proxmox:NODE/qemu/VMID, proxmox:NODE/lxc/VMID or proxmox:NODE/node";
    if (a == std::string::npos) return fail(error, usage);
    t.node = rest.substr(0, a);
    const std::string kind = rest.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1);
    if (!all_of(t.node, node_char)) return fail(error, usage + " (bad node name)");
    if (kind == "node" && b == std::string::npos) {
      t.guest = ProxmoxGuest::node;
      return t;
    }
    if ((kind != "qemu" && kind != "lxc") || b == std::string::npos) return fail(error, usage);
    t.guest = kind == "qemu" ? ProxmoxGuest::qemu : ProxmoxGuest::lxc;
    t.vmid = rest.substr(b + 1);
    // Proxmox VMIDs are 100..999999999.
    if (!all_of(t.vmid, digit) || t.vmid.size() > 9 || t.vmid.front() == '0' || std::stoul(t.vmid) < 100) {
      return fail(error, usage + " (VMID is a number from 100 to 999999999)");
    }
    return t;
  }
  std::string reason;
  if (!io::parse_url(text, &reason)) {
    return fail(error, reason +
                           "; or use openstack:SERVER_ID, proxmox:NODE/qemu/VMID, proxmox:NODE/lxc/VMID, "
                           "proxmox:NODE/node");
  }
  t.kind = TargetKind::direct;
  t.url = text;
  return t;
}

}  // namespace vncgate::providers
