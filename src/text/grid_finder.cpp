// SPDX-License-Identifier: Apache-2.0
#include "text/grid_finder.hpp"

#include <algorithm>
#include <unordered_map>
#include <vector>

#include "text/cell_reader.hpp"

namespace vncgate::text {
namespace {

using framebuffer::Pixel;

constexpr int kRowStep = 3;           // rows scanned for inked pixels
constexpr std::size_t kPoints = 384;  // edge pixels kept
constexpr int kMaxTried = 64;         // cells read per candidate at most
constexpr int kRejectAfter = 8;       // a candidate with most of its first cells unreadable is dropped

struct Point {
  int x, y;
};

// Pixels that differ from their left neighbour: text is dense with them, flat areas (a window's background,
// an empty screen) have none, so the cells under them are rarely blank.
std::vector<Point> edge_points(const framebuffer::PixelBuffer& fb, int row_step) {
  std::size_t count = 0;
  for (int y = 0; y < fb.height(); y += row_step) {
    const Pixel* row = fb.row(y);
    for (int x = 1; x < fb.width(); ++x) count += row[x] != row[x - 1];
  }
  std::vector<Point> points;
  if (count == 0) return points;
  const std::size_t step = (count + kPoints - 1) / kPoints;
  std::size_t i = 0;
  for (int y = 0; y < fb.height(); y += row_step) {
    const Pixel* row = fb.row(y);
    for (int x = 1; x < fb.width(); ++x)
      if (row[x] != row[x - 1] && i++ % step == 0) points.push_back({x, y});
  }
  // Interleave so the first cells tried come from all over the screen, not only its top.
  std::vector<Point> spread;
  spread.reserve(points.size());
  const std::size_t stride = 17;
  for (std::size_t start = 0; start < stride; ++start)
    for (std::size_t k = start; k < points.size(); k += stride) spread.push_back(points[k]);
  return spread;
}

// Whether most edge points have only two colours around them (the pixel before, the two after). Under the
// grid find_grid accepts, three quarters of the inked cells tried are two-coloured, and bitmap text keeps
// ~100 % of its edges so; anti-aliased text and pictures blend (~17 % on an xterm in DejaVu Sans Mono).
// Checked before any candidate, it spares the thousands of cells a search on such a screen reads to reject
// them all — every frame of a scrolling anti-aliased terminal, whose whole screen changes each time.
bool mostly_two_coloured(const framebuffer::PixelBuffer& fb, const std::vector<Point>& points) {
  std::size_t two = 0;
  for (const auto& p : points) {
    const Pixel* row = fb.row(p.y);
    const Pixel a = row[p.x - 1], b = row[p.x];
    bool only_two = true;
    for (int x = p.x + 1; x <= std::min(fb.width() - 1, p.x + 2); ++x) only_two &= row[x] == a || row[x] == b;
    two += only_two;
  }
  return two * 2 >= points.size();
}

// What window frames, borders, cursors and stray pixels read as under a wrong grid: box drawing, block
// elements, geometric shapes, box and scan lines, the ASCII lines (a 1-pixel line is ▏, ⎹, | or ⎺ in many
// fonts, a cursor █), combining marks and dots (a lone pixel is a Hebrew point or a full stop).
bool is_frame_or_mark(char32_t c) {
  return (c >= 0x2500 && c <= 0x25FF) || (c >= 0x23B8 && c <= 0x23BD) || (c >= 0x0300 && c <= 0x036F) ||
         (c >= 0x0483 && c <= 0x0489) || (c >= 0x0591 && c <= 0x05C7) || (c >= 0x0610 && c <= 0x065F) ||
         (c >= 0x1AB0 && c <= 0x1AFF) || (c >= 0x1DC0 && c <= 0x1DFF) || (c >= 0x20D0 && c <= 0x20FF) ||
         (c >= 0xFE20 && c <= 0xFE2F) || c == U'|' || c == U'_' || c == U'-' || c == U'.' || c == U',' || c == U'\'' ||
         c == U'`' || c == U'¦' || c == U'·' || c == U'˙';
}

struct Score {
  int hits = 0;
  int tried = 0;
  int signs = 0;                   // distinct characters that are letters, digits, signs: not frames or marks
  std::vector<char32_t> distinct;  // characters read, up to kDistinct
  // Distinct characters count most: a window frame reads as a few line glyphs (▏ ⎺) under many wrong grids,
  // text reads as many different letters under the right one.
  int value() const { return hits + 4 * static_cast<int>(distinct.size()) - 3 * (tried - hits); }
};
constexpr std::size_t kDistinct = 32;

}  // namespace

Pixel dominant_colour(const framebuffer::PixelBuffer& fb) {
  std::unordered_map<Pixel, int> counts;
  for (int y = 0; y < fb.height(); y += 7) {
    const Pixel* row = fb.row(y);
    for (int x = y % 5; x < fb.width(); x += 5) ++counts[row[x]];
  }
  Pixel best = 0;
  int most = -1;
  for (const auto& [p, n] : counts)
    if (n > most || (n == most && p < best)) {
      best = p;
      most = n;
    }
  return best;
}

std::optional<Grid> find_grid(const framebuffer::PixelBuffer& fb, const GlyphLibrary& library, long long* cells_read) {
  if (fb.width() <= 0 || fb.height() <= 0) return std::nullopt;
  // A first look at every 24th row turns most screens that are not bitmap text away at an eighth of the scan.
  const auto glance = edge_points(fb, 8 * kRowStep);
  if (!glance.empty() && !mostly_two_coloured(fb, glance)) return std::nullopt;
  const auto points = edge_points(fb, kRowStep);
  if (points.empty() || !mostly_two_coloured(fb, points)) return std::nullopt;
  const Pixel background = dominant_colour(fb);

  std::optional<Grid> best;
  int best_score = 0;
  std::vector<std::uint32_t> seen;  // cell index -> the candidate that last read it
  std::uint32_t candidate = 0;
  for (const auto& table : library.tables()) {
    const int w = table->width(), h = table->height();
    for (int oy = 0; oy < h; ++oy)
      for (int ox = 0; ox < w; ++ox) {
        const int columns = (fb.width() - ox) / w, rows = (fb.height() - oy) / h;
        if (columns < 1 || rows < 1) continue;
        seen.resize(std::max<std::size_t>(seen.size(), std::size_t(columns) * rows));
        ++candidate;
        Score s;
        for (const auto& p : points) {
          if (p.x < ox || p.y < oy) continue;
          const int cx = (p.x - ox) / w, cy = (p.y - oy) / h;
          if (cx >= columns || cy >= rows) continue;
          auto& mark = seen[std::size_t(cy) * columns + cx];
          if (mark == candidate) continue;
          mark = candidate;
          const Cell c = read_cell(fb, ox + cx * w, oy + cy * h, *table, background);
          if (cells_read) ++*cells_read;
          if (c.kind == CellKind::blank) continue;
          ++s.tried;
          if (c.kind == CellKind::glyph) {
            ++s.hits;
            if (s.distinct.size() < kDistinct &&
                std::find(s.distinct.begin(), s.distinct.end(), c.code) == s.distinct.end()) {
              s.distinct.push_back(c.code);
              s.signs += !is_frame_or_mark(c.code);
            }
          }
          if (s.tried >= kRejectAfter && s.hits * 2 < s.tried) break;
          if (s.tried >= kMaxTried) break;
        }
        // Text has signs: a screen where only frame lines, blocks and dots read (a cleared terminal's window
        // border and cursor) is not text.
        if (s.hits < 3 || s.hits * 4 < s.tried * 3 || s.signs < 2) continue;
        const int score = s.value();
        if (score > best_score) {
          best_score = score;
          best = Grid{table.get(), ox, oy, columns, rows, background};
        }
      }
  }
  return best;
}

}  // namespace vncgate::text
