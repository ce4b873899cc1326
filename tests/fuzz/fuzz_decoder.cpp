// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for one decoder, chosen at compile time with -DVNCGATE_FUZZ_ENCODING=<Encoding member>.
// Input layout: tests/fuzz/fuzz_input.hpp. Besides memory safety (ASan/UBSan) it checks the Decoder contract
// (src/rfb/decoders/decoder.hpp) and traps when it is broken:
//  - gather() is exact: on a strict prefix of the bytes it accepted it returns false (needs more) and does
//    not throw (the structure was possible after all);
//  - decode() never writes outside its rectangle, also when it throws.
// With VNCGATE_FUZZ_VERBOSE=1 each input reports how many records decoded and why it stopped (seed checks).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "fuzz/fuzz_input.hpp"
#include "rfb/decoders/decoder.hpp"
#include "util/error.hpp"

#ifndef VNCGATE_FUZZ_ENCODING
#error "define VNCGATE_FUZZ_ENCODING (raw, copy_rect, rre, hextile, zlib, tight, zrle)"
#endif

namespace {

using vncgate::framebuffer::Pixel;
using vncgate::framebuffer::PixelBuffer;
using vncgate::framebuffer::Rect;
using vncgate::rfb::InBuffer;

constexpr auto kEncoding = vncgate::rfb::Encoding::VNCGATE_FUZZ_ENCODING;
const bool kVerbose = std::getenv("VNCGATE_FUZZ_VERBOSE") != nullptr;

[[noreturn]] void contract_broken(const char* what, const Rect& r) {
  std::fprintf(stderr, "decoder contract broken: %s (rect %dx%d+%d+%d)\n", what, r.w, r.h, r.x, r.y);
  std::abort();
}

// gather() on a strict prefix of the bytes it accepted must ask for more, without consuming or throwing.
void check_prefix(vncgate::rfb::Decoder& decoder, std::span<const std::uint8_t> accepted, const Rect& r,
                  const vncgate::rfb::PixelFormat& pf) {
  for (std::size_t n : {accepted.size() - 1, accepted.size() / 2}) {
    if (n >= accepted.size()) continue;
    InBuffer in;
    in.append(accepted.first(n));
    in.mark();
    std::vector<std::uint8_t> payload;
    bool complete = false;
    try {
      complete = decoder.gather(in, r, pf, payload);
    } catch (const vncgate::Error&) {
      contract_broken("gather() threw on a prefix of bytes it accepts", r);
    }
    if (complete) contract_broken("gather() completed on a strict prefix of its own payload", r);
  }
}

// Pixels outside `r` must be what they were before decode().
void check_outside(const std::vector<Pixel>& before, const PixelBuffer& fb, const Rect& r) {
  for (int y = 0; y < fb.height(); ++y) {
    const Pixel* now = fb.row(y);
    const Pixel* was = before.data() + static_cast<std::size_t>(y) * fb.width();
    const bool in_rows = y >= r.y && y < r.bottom();
    if (!in_rows) {
      if (std::memcmp(now, was, sizeof(Pixel) * fb.width()) != 0) contract_broken("decode() wrote outside rows", r);
      continue;
    }
    if (std::memcmp(now, was, sizeof(Pixel) * r.x) != 0 ||
        std::memcmp(now + r.right(), was + r.right(), sizeof(Pixel) * (fb.width() - r.right())) != 0)
      contract_broken("decode() wrote outside columns", r);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  // Converters are built once: their lookup tables (64K entries for 16 bpp) cost more than most inputs.
  static const auto kConverters = [] {
    std::vector<vncgate::rfb::PixelConverter> v;
    for (std::size_t i = 0; i < vncgate::fuzz::formats().size(); ++i)
      v.push_back(vncgate::fuzz::make_converter(static_cast<std::uint8_t>(i)));
    return v;
  }();
  const auto& conv = kConverters[data[0] % kConverters.size()];
  const auto& pf = conv.format();
  auto decoder = vncgate::rfb::make_decoder(kEncoding);
  auto probe = vncgate::rfb::make_decoder(kEncoding);  // for prefix checks, so `decoder` keeps its stream state
  if (!decoder || !probe) std::abort();

  // A recognisable background, so CopyRect moves something and stray writes show. Built once and copied in
  // with memcpy: instrumented per-pixel loops over 256x256 would dominate the run time.
  static const std::vector<Pixel> kBackground = [] {
    std::vector<Pixel> v(std::size_t{vncgate::fuzz::kFramebufferSize} * vncgate::fuzz::kFramebufferSize);
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<Pixel>(i * 2654435761u) & 0xffffff;
    return v;
  }();
  static PixelBuffer fb(vncgate::fuzz::kFramebufferSize, vncgate::fuzz::kFramebufferSize);
  std::memcpy(fb.pixels().data(), kBackground.data(), kBackground.size() * sizeof(Pixel));

  InBuffer in;
  in.append({data + 1, size - 1});
  std::vector<std::uint8_t> payload;
  static std::vector<Pixel> before(kBackground.size());
  int decoded = 0;
  const char* stop = "end of input";
  try {
    while (in.has(vncgate::fuzz::kRecordHeader)) {
      const unsigned x = in.u16(), y = in.u16(), w = in.u16(), h = in.u16();
      const Rect r = vncgate::fuzz::clamp_rect(x, y, w, h);
      in.mark();
      const std::size_t start = in.position();
      payload.clear();
      if (!decoder->gather(in, r, pf, payload)) {
        in.restore();
        stop = "incomplete rectangle";
        break;  // the rest of the input is an incomplete rectangle
      }
      const std::span<const std::uint8_t> accepted{in.peek() - (in.position() - start), in.position() - start};
      check_prefix(*probe, accepted, r, pf);
      if (r.empty()) continue;  // ClientConnection gathers empty rects but never decodes them
      std::memcpy(before.data(), fb.pixels().data(), before.size() * sizeof(Pixel));
      try {
        decoder->decode(payload, r, conv, fb);
      } catch (const vncgate::Error&) {
        check_outside(before, fb, r);
        throw;
      }
      check_outside(before, fb, r);
      ++decoded;
    }
    if (in.available() && in.available() < vncgate::fuzz::kRecordHeader) stop = "a partial record header";
  } catch (const vncgate::Error& e) {
    // Malformed input: the connection would end here.
    if (kVerbose) std::fprintf(stderr, "fuzz: %d rects decoded, then error: %s\n", decoded, e.what());
    return 0;
  }
  if (kVerbose) std::fprintf(stderr, "fuzz: %d rects decoded, stopped at %s\n", decoded, stop);
  return 0;
}
