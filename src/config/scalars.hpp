// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

// Strict text → value parsing for config values: the whole text must be the value ("12abc" is not 12).
namespace vncgate::config::detail {

// Decimal, optional leading '-'; nullopt on anything else or overflow.
std::optional<std::int64_t> parse_integer(std::string_view text);
// true/false/yes/no/on/off/1/0, any case.
std::optional<bool> parse_boolean(std::string_view text);
// A plain byte count or a number with B, KiB, MiB or GiB ("512KiB", "1 MiB"); nullopt on overflow.
std::optional<std::uint64_t> parse_bytes(std::string_view text);
// A finite decimal number ("10", "29.97", "2.5e1").
std::optional<double> parse_number(std::string_view text);

// Shortest text that reads back as the same double, with a '.' so TOML sees a float.
std::string format_number(double value);
// A TOML basic string: quotes, escapes for '"', '\\' and control characters.
std::string toml_quote(std::string_view text);

std::string trim(std::string_view text);

}  // namespace vncgate::config::detail
