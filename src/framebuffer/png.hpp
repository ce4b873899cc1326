// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>

#include "framebuffer/pixel_buffer.hpp"

namespace vncgate::framebuffer {

// Writes `fb` as a PNG, lossless: a palette of 1-8 bits a pixel when it has at most 256 colours, else 8-bit RGB,
// filtered and deflated as suits the picture (png.cpp). Throws vncgate::Error (storage) when the file cannot be
// written.
void write_png(const PixelBuffer& fb, const std::string& path);
// The same PNG in memory (an HTTP answer).
std::string encode_png(const PixelBuffer& fb);

}  // namespace vncgate::framebuffer
