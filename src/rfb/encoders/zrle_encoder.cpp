// SPDX-License-Identifier: Apache-2.0
#include "rfb/encoders/zrle_encoder.hpp"

#include <algorithm>

#include "rfb/encoders/wire.hpp"
#include "rfb/encoding.hpp"

namespace vncgate::rfb {
namespace {

constexpr int kTileSize = 64;
constexpr std::size_t kMaxPalette = 16;

}  // namespace

// Level 1: screens compress well even so, and a server feeding many viewers must stay cheap.
ZrleEncoder::ZrleEncoder(bool keep_history) : deflater_(1), keep_history_(keep_history) {}
ZrleEncoder::~ZrleEncoder() = default;

void ZrleEncoder::encode(const framebuffer::PixelBuffer& fb, std::span<const framebuffer::Rect> rects,
                         const PixelWriter& writer, EncodedPixels& out) {
  if (!keep_history_) deflater_.restart();
  auto& bytes = out.bytes;
  for (const auto& r : rects) {
    put_rect_header(bytes, r, static_cast<std::int32_t>(Encoding::zrle));
    tiles_.clear();
    for (int y = r.y; y < r.bottom(); y += kTileSize)
      for (int x = r.x; x < r.right(); x += kTileSize)
        encode_tile(fb, {x, y, std::min(kTileSize, r.right() - x), std::min(kTileSize, r.bottom() - y)}, writer);
    const std::size_t length_at = bytes.size();
    if (out.zlib_starts[0] < 0) out.zlib_starts[0] = static_cast<std::int32_t>(length_at);
    bytes.resize(length_at + 4);
    deflater_.compress(tiles_, bytes);
    const auto length = static_cast<std::uint32_t>(bytes.size() - length_at - 4);
    for (int i = 0; i < 4; ++i) bytes[length_at + i] = static_cast<std::uint8_t>(length >> (24 - 8 * i));
    ++out.rects;
  }
}

// Subencoding 1 (solid), 2-16 (packed palette) or 0 (raw), whichever the tile's colour count allows.
void ZrleEncoder::encode_tile(const framebuffer::PixelBuffer& fb, const framebuffer::Rect& t,
                              const PixelWriter& writer) {
  framebuffer::Pixel palette[kMaxPalette];
  std::size_t colours = 0;
  for (int y = t.y; y < t.bottom() && colours <= kMaxPalette; ++y) {
    const auto* row = fb.row(y);
    for (int x = t.x; x < t.right(); ++x) {
      if (std::find(palette, palette + colours, row[x]) != palette + colours) continue;
      if (colours == kMaxPalette) {
        colours = kMaxPalette + 1;
        break;
      }
      palette[colours++] = row[x];
    }
  }
  if (colours > kMaxPalette) {
    tiles_.push_back(0);
    for (int y = t.y; y < t.bottom(); ++y)
      for (int x = t.x; x < t.right(); ++x) writer.put_cpixel(tiles_, fb.at(x, y));
    return;
  }
  tiles_.push_back(static_cast<std::uint8_t>(colours));
  for (std::size_t i = 0; i < colours; ++i) writer.put_cpixel(tiles_, palette[i]);
  if (colours == 1) return;
  const int bits = colours == 2 ? 1 : colours <= 4 ? 2 : 4;
  for (int y = t.y; y < t.bottom(); ++y) {
    const auto* row = fb.row(y);
    unsigned byte = 0;
    int used = 0;
    for (int x = t.x; x < t.right(); ++x) {
      const auto index = static_cast<unsigned>(std::find(palette, palette + colours, row[x]) - palette);
      byte = (byte << bits) | index;
      used += bits;
      if (used == 8) {
        tiles_.push_back(static_cast<std::uint8_t>(byte));
        byte = 0;
        used = 0;
      }
    }
    if (used > 0) tiles_.push_back(static_cast<std::uint8_t>(byte << (8 - used)));  // rows end on a byte
  }
}

}  // namespace vncgate::rfb
