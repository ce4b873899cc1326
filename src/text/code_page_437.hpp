// SPDX-License-Identifier: Apache-2.0
#pragma once

namespace vncgate::text {

// The Unicode character IBM code page 437 (the VGA BIOS font's order) shows at `index` (0..255), control
// positions included (0x01 is U+263A ☺ as the VGA draws it).
char32_t cp437_to_unicode(unsigned index);

}  // namespace vncgate::text
