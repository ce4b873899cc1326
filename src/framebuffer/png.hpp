// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>

#include "framebuffer/pixel_buffer.hpp"

namespace vncgate::framebuffer {

// Writes `fb` as an 8-bit RGB PNG; throws vncgate::Error (storage) when the file cannot be written.
void write_png(const PixelBuffer& fb, const std::string& path);
// The same PNG in memory (an HTTP answer).
std::string encode_png(const PixelBuffer& fb);

}  // namespace vncgate::framebuffer
