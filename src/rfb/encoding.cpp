// SPDX-License-Identifier: Apache-2.0
#include "rfb/encoding.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

namespace vncgate::rfb {
namespace {

constexpr std::array<std::pair<Encoding, std::string_view>, 23> kNames{{
    {Encoding::raw, "raw"},
    {Encoding::copy_rect, "copyrect"},
    {Encoding::rre, "rre"},
    {Encoding::hextile, "hextile"},
    {Encoding::zlib, "zlib"},
    {Encoding::tight, "tight"},
    {Encoding::zrle, "zrle"},
    {Encoding::desktop_size, "desktop-size"},
    {Encoding::last_rect, "last-rect"},
    {Encoding::pointer_pos, "pointer-pos"},
    {Encoding::cursor, "cursor"},
    {Encoding::x_cursor, "x-cursor"},
    {Encoding::qemu_pointer_motion_change, "qemu-pointer-motion-change"},
    {Encoding::qemu_extended_key_event, "qemu-extended-key-event"},
    {Encoding::qemu_audio, "qemu-audio"},
    {Encoding::qemu_led_state, "qemu-led-state"},
    {Encoding::desktop_name, "desktop-name"},
    {Encoding::extended_desktop_size, "extended-desktop-size"},
    {Encoding::xvp, "xvp"},
    {Encoding::fence, "fence"},
    {Encoding::continuous_updates, "continuous-updates"},
    {Encoding::wmvi, "wmvi"},
    {Encoding::vmware_led_state, "vmware-led-state"},
}};

}  // namespace

std::string encoding_name(std::int32_t encoding) {
  for (const auto& [e, name] : kNames)
    if (static_cast<std::int32_t>(e) == encoding) return std::string(name);
  if (encoding >= -32 && encoding <= -23) return "quality-" + std::to_string(encoding + 32);
  if (encoding >= -256 && encoding <= -247) return "compress-" + std::to_string(encoding + 256);
  return "unknown(" + std::to_string(encoding) + ")";
}

std::optional<std::vector<Encoding>> parse_encoding_list(std::string_view list, std::string* error) {
  std::vector<Encoding> out;
  while (!list.empty()) {
    const auto comma = list.find(',');
    std::string name(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    if (name.empty()) continue;
    // quality-N (JPEG quality for Tight, 0-9) and compress-N (zlib level hint, 0-9), as encoding_name prints.
    if ((name.rfind("quality-", 0) == 0 || name.rfind("compress-", 0) == 0) && name.size() == name.find('-') + 2 &&
        std::isdigit(static_cast<unsigned char>(name.back()))) {
      const int level = name.back() - '0';
      out.push_back(name[0] == 'q' ? quality_level(level) : compress_level(level));
      continue;
    }
    auto it = std::find_if(kNames.begin(), kNames.end(), [&](const auto& n) { return n.second == name; });
    if (it == kNames.end()) {
      if (error) *error = "unknown encoding '" + name + "' (known: raw, copyrect, rre, hextile, zlib, tight, zrle, quality-0..9, compress-0..9, and pseudo-encoding names)";
      return std::nullopt;
    }
    out.push_back(it->first);
  }
  if (out.empty()) {
    if (error) *error = "empty encoding list";
    return std::nullopt;
  }
  return out;
}

std::vector<Encoding> pseudo_encodings() {
  return {Encoding::desktop_size,          Encoding::extended_desktop_size, Encoding::last_rect,
          Encoding::cursor,                Encoding::pointer_pos,           Encoding::qemu_extended_key_event,
          Encoding::qemu_led_state,        Encoding::desktop_name,          Encoding::wmvi,
          compress_level(6)};
}

std::vector<Encoding> default_encodings() {
  std::vector<Encoding> e{Encoding::tight,     Encoding::zrle, Encoding::hextile, Encoding::zlib,
                          Encoding::copy_rect, Encoding::rre,  Encoding::raw};
  auto p = pseudo_encodings();
  e.insert(e.end(), p.begin(), p.end());
  return e;
}

}  // namespace vncgate::rfb
