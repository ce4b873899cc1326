// SPDX-License-Identifier: Apache-2.0
#include "rfb/encoders/tight_encoder.hpp"

#include <turbojpeg.h>

#include <algorithm>
#include <bit>
#include <string>

#include "rfb/encoders/wire.hpp"
#include "rfb/encoding.hpp"
#include "util/error.hpp"

namespace vncgate::rfb {
namespace {

// rfbproto "Tight": rectangles at most 2048 pixels wide and, as TigerVNC and libvncserver keep them, 64K
// pixels, so a viewer's buffers stay bounded; filter output under 12 bytes goes without zlib or length.
constexpr int kMaxWidth = 2048;
constexpr int kMaxPixels = 65536;
constexpr std::size_t kMinToCompress = 12;
constexpr int kJpegTile = 64;
// Control byte high nibbles and the explicit-filter bit.
constexpr unsigned kFill = 0x80;
constexpr unsigned kJpegType = 0x90;
constexpr unsigned kExplicitFilter = 0x40;
constexpr std::uint8_t kFilterPalette = 1;
enum : int { kStreamFullColour = 0, kStreamMono = 1, kStreamIndexed = 2 };

// JPEG quality and chroma subsampling per quality level 0-9 (the scale TigerVNC's viewers expect).
constexpr int kJpegQuality[10] = {15, 29, 41, 42, 62, 77, 79, 86, 92, 100};
int jpeg_subsampling(int level) { return level <= 2 ? TJSAMP_420 : level <= 5 ? TJSAMP_422 : TJSAMP_444; }

// A palette goes uncompressed (3 bytes a colour) and saves at most 2 of every 3 bytes before zlib: with many
// colours for its size (anti-aliased glyphs: 119 colours in 56x10 pixels) full colour through zlib is smaller.
// TigerVNC's rule (EncodeManager): at most area / (8 x compression level) colours, the divisor at least 4;
// measured on an operator's session it halves the bytes of such rectangles.
int most_palette_colours(int area, int compress_level) { return std::max(2, area / std::max(4, 8 * compress_level)); }
bool worth_a_palette(int colours, int area, int compress_level) {
  return colours <= most_palette_colours(area, compress_level);
}

}  // namespace

struct TightEncoder::Jpeg {
  tjhandle handle = tjInitCompress();
  std::vector<unsigned char> buffer;
  std::vector<framebuffer::Pixel> rows;  // a tile's rows side by side, when the picture's are not
  Jpeg() {
    if (!handle)
      throw CodecError(std::string("TurboJPEG: cannot create a compressor (") + tjGetErrorStr2(nullptr) + ")");
  }
  ~Jpeg() { tjDestroy(handle); }
  Jpeg(const Jpeg&) = delete;
  Jpeg& operator=(const Jpeg&) = delete;
};

// Full colour is what anti-aliased text with many colours for its size takes (worth_a_palette): zlib at level 6
// makes half ISA-L's bytes of it, in ~0.1 ms for a line. Only big pieces (photo-like areas of 21K pixels and
// more) take ISA-L's speed.
TightEncoder::TightEncoder(bool keep_history) : keep_history_(keep_history) {
  streams_[kStreamFullColour].favour_size_below(64 << 10, 6);
}
TightEncoder::~TightEncoder() = default;

void TightEncoder::configure(int compress_level, int jpeg_quality) {
  compress_level_ = std::clamp(compress_level, 0, 9);
  jpeg_quality_ = jpeg_quality < 0 ? -1 : std::min(jpeg_quality, 9);
}

void TightEncoder::encode(const framebuffer::PixelBuffer& fb, std::span<const framebuffer::Rect> rects,
                          const PixelWriter& writer, EncodedPixels& out) {
  for (const auto& r : rects)
    for (int x = r.x; x < r.right(); x += kMaxWidth) {
      const int w = std::min(kMaxWidth, r.right() - x);
      const int band = std::max(1, kMaxPixels / w);
      for (int y = r.y; y < r.bottom(); y += band)
        encode_part(fb, {x, y, w, std::min(band, r.bottom() - y)}, writer, out);
    }
}

void TightEncoder::encode_part(const framebuffer::PixelBuffer& fb, const framebuffer::Rect& r,
                               const PixelWriter& writer, EncodedPixels& out) {
  const PixelFormat& pf = writer.format();
  const bool jpeg_ok = jpeg_quality_ >= 0 && pf.true_colour && pf.bits_per_pixel >= 16;
  // Without JPEG, more colours than a palette may have all go as full colour: stop counting there.
  palette_.collect(
      fb, r,
      jpeg_ok ? framebuffer::ColourPalette::kMaxColours
              : std::min(framebuffer::ColourPalette::kMaxColours, most_palette_colours(r.area(), compress_level_)));
  if (palette_.overflowed() && jpeg_ok && (r.w > kJpegTile || r.h > kJpegTile)) {
    // Photo-like somewhere: decide per tile, so flat and text tiles next to a picture stay lossless.
    for (int y = r.y; y < r.bottom(); y += kJpegTile)
      for (int x = r.x; x < r.right(); x += kJpegTile)
        encode_part(fb, {x, y, std::min(kJpegTile, r.right() - x), std::min(kJpegTile, r.bottom() - y)}, writer, out);
    return;
  }
  ++out.rects;
  put_rect_header(out.bytes, r, static_cast<std::int32_t>(Encoding::tight));
  if (!palette_.overflowed() && palette_.size() == 1) {
    write_fill(palette_.colour(0), writer, out.bytes);
  } else if (!palette_.overflowed() && worth_a_palette(palette_.size(), r.area(), compress_level_)) {
    write_palette(fb, r, writer, out);
  } else if (palette_.overflowed() && jpeg_ok) {  // photo-like: text stays lossless
    write_jpeg(fb, r, out.bytes);
  } else {
    write_full_colour(fb, r, writer, out);
  }
}

void TightEncoder::put_tpixel(std::vector<std::uint8_t>& out, framebuffer::Pixel p, const PixelWriter& writer) const {
  if (!writer.format().tight_rgb888()) return writer.put_pixel(out, p);
  put_u8(out, framebuffer::red(p));
  put_u8(out, framebuffer::green(p));
  put_u8(out, framebuffer::blue(p));
}

void TightEncoder::write_fill(framebuffer::Pixel colour, const PixelWriter& writer, std::vector<std::uint8_t>& out) {
  put_u8(out, kFill);
  put_tpixel(out, colour, writer);
}

void TightEncoder::write_palette(const framebuffer::PixelBuffer& fb, const framebuffer::Rect& r,
                                 const PixelWriter& writer, EncodedPixels& out) {
  const int colours = palette_.size();
  const int stream = colours == 2 ? kStreamMono : kStreamIndexed;
  std::vector<std::uint8_t> header;
  put_u8(header, kFilterPalette);
  put_u8(header, static_cast<unsigned>(colours - 1));
  for (int i = 0; i < colours; ++i) put_tpixel(header, palette_.colour(i), writer);

  data_.clear();
  if (colours == 2) {  // 1 bit per pixel, most significant first, rows padded to a byte
    const framebuffer::Pixel zero = palette_.colour(0);
    for (int y = r.y; y < r.bottom(); ++y) {
      const auto* row = fb.row(y) + r.x;
      unsigned byte = 0;
      for (int x = 0; x < r.w; ++x) {
        byte = (byte << 1) | (row[x] == zero ? 0u : 1u);
        if ((x & 7) == 7) put_u8(data_, byte), byte = 0;
      }
      if (r.w & 7) put_u8(data_, byte << (8 - (r.w & 7)));
    }
  } else {
    data_.reserve(static_cast<std::size_t>(r.area()));
    for (int y = r.y; y < r.bottom(); ++y) {
      const auto* row = fb.row(y) + r.x;
      framebuffer::Pixel last = row[0];
      int index = palette_.index(last);
      for (int x = 0; x < r.w; ++x) {
        if (row[x] != last) last = row[x], index = palette_.index(last);
        data_.push_back(static_cast<std::uint8_t>(index));
      }
    }
  }
  write_data((static_cast<unsigned>(stream) << 4) | kExplicitFilter, stream, out, header);
}

void TightEncoder::write_full_colour(const framebuffer::PixelBuffer& fb, const framebuffer::Rect& r,
                                     const PixelWriter& writer, EncodedPixels& out) {
  data_.clear();
  if (writer.format().tight_rgb888()) {
    data_.resize(static_cast<std::size_t>(r.area()) * 3);
    auto* p = data_.data();
    for (int y = r.y; y < r.bottom(); ++y) {
      const auto* row = fb.row(y) + r.x;
      for (int x = 0; x < r.w; ++x, p += 3)
        p[0] = static_cast<std::uint8_t>(row[x] >> 16), p[1] = static_cast<std::uint8_t>(row[x] >> 8),
        p[2] = static_cast<std::uint8_t>(row[x]);
    }
  } else {
    for (int y = r.y; y < r.bottom(); ++y) writer.put_pixels(data_, fb.row(y) + r.x, static_cast<std::size_t>(r.w));
  }
  write_data(static_cast<unsigned>(kStreamFullColour) << 4, kStreamFullColour, out, {});
}

void TightEncoder::write_data(unsigned type, int stream, EncodedPixels& out, const std::vector<std::uint8_t>& header) {
  auto& bytes = out.bytes;
  put_u8(bytes, type);
  bytes.insert(bytes.end(), header.begin(), header.end());
  if (data_.size() < kMinToCompress) {
    bytes.insert(bytes.end(), data_.begin(), data_.end());
    return;
  }
  // A stream's first use in this call starts it without history (no reset bit: see the class comment), unless
  // it keeps its history and goes on at the same level (a Deflater that never wrote has none to keep).
  const auto i = static_cast<std::size_t>(stream);
  auto& deflater = streams_[i];
  auto& start = out.zlib_starts[i];
  const std::size_t length_at = bytes.size();
  if (start < 0) {
    if (!keep_history_ || deflater.level() != compress_level_) deflater.restart(compress_level_);
    start = static_cast<std::int32_t>(length_at);
  }
  bytes.resize(length_at + 3);  // compact length, moved into place once known
  deflater.compress(data_, bytes);
  const std::size_t length = bytes.size() - length_at - 3;
  std::vector<std::uint8_t> compact;
  put_tight_length(compact, length);
  bytes.erase(bytes.begin() + static_cast<std::ptrdiff_t>(length_at + compact.size()),
              bytes.begin() + static_cast<std::ptrdiff_t>(length_at + 3));
  std::copy(compact.begin(), compact.end(), bytes.begin() + static_cast<std::ptrdiff_t>(length_at));
}

void TightEncoder::write_jpeg(const framebuffer::PixelBuffer& fb, const framebuffer::Rect& r,
                              std::vector<std::uint8_t>& out) {
  if (!jpeg_) jpeg_ = std::make_unique<Jpeg>();
  const int subsampling = jpeg_subsampling(jpeg_quality_);
  jpeg_->buffer.resize(tjBufSize(r.w, r.h, subsampling));
  unsigned char* dst = jpeg_->buffer.data();
  unsigned long size = jpeg_->buffer.size();
  // Canonical pixels read as bytes B,G,R,X on little-endian hosts and X,R,G,B on big-endian ones.
  constexpr int kFormat = std::endian::native == std::endian::little ? TJPF_BGRX : TJPF_XRGB;
  // TurboJPEG walks the rows from one pointer: rows out of order in memory (a scrolled picture) go through a copy.
  const framebuffer::Pixel* src = fb.row(r.y) + r.x;
  int stride = fb.width();
  if (!fb.rows_in_order(r.y, r.h)) {
    jpeg_->rows.resize(static_cast<std::size_t>(r.area()));
    for (int y = 0; y < r.h; ++y) std::copy_n(fb.row(r.y + y) + r.x, r.w, jpeg_->rows.data() + std::size_t(y) * r.w);
    src = jpeg_->rows.data();
    stride = r.w;
  }
  if (tjCompress2(jpeg_->handle, reinterpret_cast<const unsigned char*>(src), r.w, stride * 4, r.h, kFormat, &dst,
                  &size, subsampling, kJpegQuality[jpeg_quality_], TJFLAG_NOREALLOC) != 0)
    throw CodecError(std::string("TurboJPEG: ") + tjGetErrorStr2(jpeg_->handle));
  put_u8(out, kJpegType);
  put_tight_length(out, size);
  out.insert(out.end(), dst, dst + size);
}

}  // namespace vncgate::rfb
