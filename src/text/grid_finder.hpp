// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <optional>

#include "framebuffer/pixel_buffer.hpp"
#include "text/glyph_library.hpp"
#include "text/grid.hpp"

namespace vncgate::text {

// Finds the character grid of a text screen: the cell size (one of `library`'s tables) and origin under
// which the cells holding ink read as glyphs. Samples a few hundred edge pixels (a colour change) spread over the
// screen and, for every cell size and origin, reads the cells under them until they show it is wrong (most
// candidates fail within a few cells). Empty when no candidate reads at least 3 cells and three quarters
// of those it tried: not a text screen (a desktop, an anti-aliased terminal, a blank screen); a screen whose
// edges are mostly not between two colours (anti-aliasing, photos) is rejected before any candidate.
// `cells_read`, when given, is increased by the cells the search read (what it cost).
std::optional<Grid> find_grid(const framebuffer::PixelBuffer& fb, const GlyphLibrary& library,
                              long long* cells_read = nullptr);

// The most common colour of `fb` (sampled), the background of a text screen.
framebuffer::Pixel dominant_colour(const framebuffer::PixelBuffer& fb);

}  // namespace vncgate::text
