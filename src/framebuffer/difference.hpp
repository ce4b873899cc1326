// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "framebuffer/damage.hpp"
#include "framebuffer/pixel_buffer.hpp"

namespace vncgate::framebuffer {

// Where `now` differs from `before`, as bands of `tile`-pixel rows cut to the columns that changed in them
// (the whole picture when the sizes differ). For readers that get whole pictures without their damage.
Damage difference(const PixelBuffer& before, const PixelBuffer& now, int tile = 16);

}  // namespace vncgate::framebuffer
