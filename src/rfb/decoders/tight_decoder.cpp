// SPDX-License-Identifier: Apache-2.0
#include "rfb/decoders/tight_decoder.hpp"

#include <turbojpeg.h>

#include <algorithm>
#include <bit>
#include <optional>
#include <string>
#include <utility>

#include "util/byte_cursor.hpp"
#include "util/checked.hpp"
#include "util/error.hpp"

namespace vncgate::rfb {
namespace {

// rfbproto "Tight": filter input shorter than this is sent as is, without a length or zlib.
constexpr std::size_t kMinToCompress = 12;
// High nibble of the compression-control byte.
constexpr unsigned kFill = 0x8;
constexpr unsigned kJpeg = 0x9;
constexpr unsigned kExplicitFilter = 0x4;

enum : std::uint8_t { kFilterCopy = 0, kFilterPalette = 1, kFilterGradient = 2 };

enum class Kind { fill, jpeg, basic };

// Where the parts of one rectangle lie in its bytes (control byte at offset 0).
struct Layout {
  std::uint8_t control = 0;
  Kind kind = Kind::basic;
  std::uint8_t filter = kFilterCopy;
  int stream = 0;
  std::size_t palette_offset = 0;
  int palette_size = 0;         // 0 unless the palette filter is used
  std::size_t data_offset = 0;  // fill TPIXEL, JPEG image, or filter input (raw or zlib)
  std::size_t data_length = 0;  // bytes on the wire
  std::size_t data_size = 0;    // basic: filter input bytes after inflation
  bool compressed = false;

  std::size_t total() const { return data_offset + data_length; }
};

std::size_t tpixel_bytes(const PixelFormat& pf) {
  return pf.tight_rgb888() ? 3 : static_cast<std::size_t>(pf.bytes_per_pixel());
}

std::string hex(unsigned v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  return std::string("0x") + kDigits[(v >> 4) & 15] + kDigits[v & 15];
}

// Compact length (rfbproto "Tight"): 1-3 bytes, low 7 bits first, the high bit saying another byte follows;
// the third byte contributes all 8 bits (22 bits in total). False when `bytes` ends inside it.
bool read_compact(std::span<const std::uint8_t> bytes, std::size_t& pos, std::size_t& value) {
  value = 0;
  for (int i = 0; i < 3; ++i) {
    if (pos >= bytes.size()) return false;
    const std::uint8_t b = bytes[pos++];
    if (i == 2) {
      value |= std::size_t{b} << 14;
      return true;
    }
    value |= std::size_t{b & 0x7fu} << (7 * i);
    if (!(b & 0x80)) return true;
  }
  return true;
}

// Parses the structure of one rectangle from `bytes`, which may be a prefix of it: nullopt when the bytes
// end before the rectangle does; ProtocolError when the structure is impossible.
std::optional<Layout> parse_layout(std::span<const std::uint8_t> bytes, const Rect& r, const PixelFormat& pf) {
  if (bytes.empty()) return std::nullopt;
  Layout l;
  std::size_t pos = 0;
  l.control = bytes[pos++];
  const unsigned type = l.control >> 4;
  const std::size_t tpixel = tpixel_bytes(pf);

  if (type == kFill) {
    l.kind = Kind::fill;
    l.data_offset = pos;
    l.data_length = tpixel;
  } else if (type == kJpeg) {
    l.kind = Kind::jpeg;
    if (!read_compact(bytes, pos, l.data_length)) return std::nullopt;
    if (l.data_length == 0) throw ProtocolError("tight: empty JPEG image");
    l.data_offset = pos;
  } else if (type > kJpeg) {
    throw ProtocolError("tight: unknown compression type " + hex(type) + " in control byte " + hex(l.control));
  } else {
    l.stream = static_cast<int>(type & 3);
    if (type & kExplicitFilter) {
      if (pos >= bytes.size()) return std::nullopt;
      l.filter = bytes[pos++];
      if (l.filter > kFilterGradient) throw ProtocolError("tight: unknown filter " + std::to_string(l.filter));
      if (l.filter == kFilterGradient && !pf.true_colour)
        throw ProtocolError("tight: gradient filter with a colour-map pixel format");
      if (l.filter == kFilterPalette) {
        if (pos >= bytes.size()) return std::nullopt;
        l.palette_size = bytes[pos++] + 1;
        // The spec defines the byte as "colours minus 1 (1 means 2 colours)"; servers send fill for one colour.
        if (l.palette_size < 2) throw ProtocolError("tight: palette of a single colour");
        l.palette_offset = pos;
        pos += static_cast<std::size_t>(l.palette_size) * tpixel;  // may pass the end: checked below
      }
    }
    const auto w = static_cast<std::size_t>(r.w);  // below 2^31, so w * tpixel cannot overflow
    const std::size_t row = l.palette_size == 2 ? (w + 7) / 8 : l.palette_size > 2 ? w : w * tpixel;
    const auto size = checked_mul(row, static_cast<std::size_t>(r.h));
    if (!size || *size > kMaxPayload) throw ProtocolError("tight: rectangle too large");
    l.data_size = *size;
    if (l.data_size < kMinToCompress) {
      l.data_offset = pos;
      l.data_length = l.data_size;
    } else {
      if (!read_compact(bytes, pos, l.data_length)) return std::nullopt;
      // zlib never expands data by more than a few percent (stored blocks); twice the size plus slack leaves
      // room for any compressor and catches a desynchronised stream before waiting for megabytes.
      if (l.data_length > l.data_size * 2 + 1024)
        throw ProtocolError("tight: compressed length " + std::to_string(l.data_length) + " too large for " +
                            std::to_string(l.data_size) + " bytes of pixels");
      l.data_offset = pos;
      l.compressed = true;
    }
  }
  if (bytes.size() < l.total()) return std::nullopt;
  return l;
}

// `n` TPIXELs to canonical pixels.
void convert_tpixels(const std::uint8_t* src, Pixel* dst, std::size_t n, const PixelConverter& conv) {
  if (!conv.format().tight_rgb888()) return conv.convert(src, dst, n);
  for (std::size_t i = 0; i < n; ++i, src += 3) dst[i] = framebuffer::make_pixel(src[0], src[1], src[2]);
}

// One PIXEL's value in the format's byte order (the gradient filter works on its components).
std::uint32_t read_value(const std::uint8_t* p, const PixelFormat& pf) {
  switch (pf.bytes_per_pixel()) {
    case 1: return p[0];
    case 2: return pf.big_endian ? (p[0] << 8) | p[1] : (p[1] << 8) | p[0];
    default:
      return pf.big_endian ? (std::uint32_t{p[0]} << 24) | (p[1] << 16) | (p[2] << 8) | p[3]
                           : (std::uint32_t{p[3]} << 24) | (p[2] << 16) | (p[1] << 8) | p[0];
  }
}

}  // namespace

struct TightDecoder::JpegHandle {
  tjhandle handle = tjInitDecompress();
  JpegHandle() {
    if (!handle)
      throw Error(ErrorCategory::codec,
                  std::string("TurboJPEG: cannot create a decompressor (") + tjGetErrorStr2(nullptr) + ")");
  }
  ~JpegHandle() { tjDestroy(handle); }
  JpegHandle(const JpegHandle&) = delete;
  JpegHandle& operator=(const JpegHandle&) = delete;
};

TightDecoder::TightDecoder() = default;
TightDecoder::~TightDecoder() = default;

void TightDecoder::release_scratch() {
  std::vector<std::uint8_t>().swap(inflated_);
  std::vector<Pixel>().swap(pixels_);
  std::vector<int>().swap(gradient_rows_);
  jpeg_.reset();
  for (auto& s : streams_) s.hibernate();
}

bool TightDecoder::save_state(std::vector<std::uint8_t>& out) const {
  const auto size = out.size();
  for (const auto& s : streams_) {
    if (!s.save(out)) {
      out.resize(size);
      return false;
    }
  }
  return true;
}

void TightDecoder::restore_state(ByteCursor& in) {
  for (auto& s : streams_) s.restore(in);
}

bool TightDecoder::gather(InBuffer& in, const Rect& r, const PixelFormat& pf, std::vector<std::uint8_t>& payload) {
  const auto layout = parse_layout({in.peek(), in.available()}, r, pf);
  if (!layout) return false;
  const std::uint8_t* p = in.take(layout->total());
  payload.insert(payload.end(), p, p + layout->total());
  return true;
}

void TightDecoder::decode(std::span<const std::uint8_t> payload, const Rect& r, const PixelConverter& conv,
                          PixelBuffer& fb) {
  const auto layout = parse_layout(payload, r, conv.format());
  if (!layout || layout->total() != payload.size())
    throw ProtocolError("tight: payload does not match the rectangle's structure");
  const Layout& l = *layout;
  // Resets apply before this rectangle's data, whatever its compression type (rfbproto "Tight").
  for (int i = 0; i < 4; ++i)
    if (l.control & (1u << i)) streams_[static_cast<std::size_t>(i)].reset();

  const std::uint8_t* data = payload.data() + l.data_offset;
  if (l.kind == Kind::fill) {
    Pixel colour;
    convert_tpixels(data, &colour, 1, conv);
    fb.fill(r, colour);
    return;
  }
  if (l.kind == Kind::jpeg) return decode_jpeg({data, l.data_length}, r, fb);

  const std::uint8_t* src = data;
  if (l.compressed) {
    inflated_.resize(l.data_size);
    streams_[static_cast<std::size_t>(l.stream)].inflate_exact({data, l.data_length}, inflated_);
    src = inflated_.data();
  }
  const auto w = static_cast<std::size_t>(r.w);
  switch (l.filter) {
    case kFilterCopy: {
      const std::size_t row_bytes = w * tpixel_bytes(conv.format());
      for (int y = 0; y < r.h; ++y) convert_tpixels(src + y * row_bytes, fb.row(r.y + y) + r.x, w, conv);
      return;
    }
    case kFilterPalette: {
      // Slots beyond the palette hold a value no canonical pixel has (bits above 24), checked once per row.
      constexpr Pixel kInvalid = 0xff000000u;
      std::array<Pixel, 256> palette;
      palette.fill(kInvalid);
      const auto n = static_cast<std::size_t>(l.palette_size);
      convert_tpixels(payload.data() + l.palette_offset, palette.data(), n, conv);
      if (n == 2) {
        // 1 bit per pixel, most significant bit first, each row padded to a whole byte.
        const std::size_t row_bytes = (w + 7) / 8;
        for (int y = 0; y < r.h; ++y, src += row_bytes) {
          Pixel* out = fb.row(r.y + y) + r.x;
          for (std::size_t x = 0; x < w; ++x) out[x] = palette[(src[x >> 3] >> (7 - (x & 7))) & 1];
        }
        return;
      }
      for (int y = 0; y < r.h; ++y, src += w) {
        Pixel* out = fb.row(r.y + y) + r.x;
        Pixel seen = 0;
        for (std::size_t x = 0; x < w; ++x) seen |= out[x] = palette[src[x]];
        if (seen & kInvalid) throw ProtocolError("tight: palette index beyond " + std::to_string(n) + " colours");
      }
      return;
    }
    default: return decode_gradient(src, r, conv, fb);
  }
}

void TightDecoder::decode_gradient(const std::uint8_t* src, const Rect& r, const PixelConverter& conv,
                                   PixelBuffer& fb) {
  // rfbproto "Tight", gradient filter: each component is sent as the difference from the prediction
  // clamp(left + above - upper_left, 0, max), modulo max + 1; neighbours outside the rectangle count as 0.
  // 24-bit TPIXELs work on their R,G,B bytes; other formats on the PIXEL's components with their own max.
  const PixelFormat& pf = conv.format();
  const bool rgb888 = pf.tight_rgb888();
  const std::size_t step = tpixel_bytes(pf);
  const int max[3] = {rgb888 ? 255 : pf.red_max, rgb888 ? 255 : pf.green_max, rgb888 ? 255 : pf.blue_max};
  const int shift[3] = {pf.red_shift, pf.green_shift, pf.blue_shift};
  const auto w = static_cast<std::size_t>(r.w);
  gradient_rows_.assign(6 * w, 0);
  int* above = gradient_rows_.data();
  int* current = above + 3 * w;
  for (int y = 0; y < r.h; ++y) {
    Pixel* out = fb.row(r.y + y) + r.x;
    for (std::size_t x = 0; x < w; ++x, src += step) {
      int diff[3];
      if (rgb888) {
        diff[0] = src[0], diff[1] = src[1], diff[2] = src[2];
      } else {
        const std::uint32_t v = read_value(src, pf);
        for (int c = 0; c < 3; ++c) diff[c] = static_cast<int>((v >> shift[c]) & static_cast<std::uint32_t>(max[c]));
      }
      int* here = current + 3 * x;
      for (int c = 0; c < 3; ++c) {
        const int left = x ? here[c - 3] : 0;
        const int upper_left = x ? above[3 * x + c - 3] : 0;
        const int predicted = std::clamp(left + above[3 * x + c] - upper_left, 0, max[c]);
        here[c] = (diff[c] + predicted) & max[c];
      }
      if (rgb888) {
        out[x] = framebuffer::make_pixel(static_cast<unsigned>(here[0]), static_cast<unsigned>(here[1]),
                                         static_cast<unsigned>(here[2]));
      } else {
        out[x] = conv.from_value((static_cast<std::uint32_t>(here[0]) << shift[0]) |
                                 (static_cast<std::uint32_t>(here[1]) << shift[1]) |
                                 (static_cast<std::uint32_t>(here[2]) << shift[2]));
      }
    }
    std::swap(above, current);
  }
}

void TightDecoder::decode_jpeg(std::span<const std::uint8_t> jpeg, const Rect& r, PixelBuffer& fb) {
  if (!jpeg_) jpeg_ = std::make_unique<JpegHandle>();
  tjhandle tj = jpeg_->handle;
  int width = 0, height = 0, subsampling = 0, colourspace = 0;
  if (tjDecompressHeader3(tj, jpeg.data(), jpeg.size(), &width, &height, &subsampling, &colourspace) != 0)
    throw ProtocolError(std::string("tight: unreadable JPEG header (") + tjGetErrorStr2(tj) + ")");
  if (width != r.w || height != r.h)
    throw ProtocolError("tight: JPEG image is " + std::to_string(width) + "x" + std::to_string(height) +
                        " but its rectangle is " + std::to_string(r.w) + "x" + std::to_string(r.h));
  pixels_.resize(static_cast<std::size_t>(width) * static_cast<std::size_t>(height));
  // Four bytes per pixel laid out so that each reads as a native u32 0xXXRRGGBB; X is masked off below.
  constexpr int kFormat = std::endian::native == std::endian::little ? TJPF_BGRX : TJPF_XRGB;
  if (tjDecompress2(tj, jpeg.data(), jpeg.size(), reinterpret_cast<unsigned char*>(pixels_.data()), width, width * 4,
                    height, kFormat, 0) != 0 &&
      tjGetErrorCode(tj) != TJERR_WARNING)  // warnings (e.g. a truncated scan) still give an image
    throw ProtocolError(std::string("tight: corrupt JPEG image (") + tjGetErrorStr2(tj) + ")");
  const auto w = static_cast<std::size_t>(width);
  for (int y = 0; y < r.h; ++y) {
    const Pixel* in = pixels_.data() + static_cast<std::size_t>(y) * w;
    Pixel* out = fb.row(r.y + y) + r.x;
    for (std::size_t x = 0; x < w; ++x) out[x] = in[x] & 0x00ffffffu;
  }
}

}  // namespace vncgate::rfb
