// SPDX-License-Identifier: Apache-2.0
#include "rfb/decoders/copy_rect_decoder.hpp"
#include "rfb/decoders/decoder.hpp"
#include "rfb/decoders/hextile_decoder.hpp"
#include "rfb/decoders/raw_decoder.hpp"
#include "rfb/decoders/rre_decoder.hpp"
#include "rfb/decoders/tight_decoder.hpp"
#include "rfb/decoders/zlib_decoder.hpp"
#include "rfb/decoders/zrle_decoder.hpp"

namespace vncgate::rfb {

std::unique_ptr<Decoder> make_decoder(Encoding encoding) {
  switch (encoding) {
    case Encoding::raw: return std::make_unique<RawDecoder>();
    case Encoding::copy_rect: return std::make_unique<CopyRectDecoder>();
    case Encoding::rre: return std::make_unique<RreDecoder>();
    case Encoding::hextile: return std::make_unique<HextileDecoder>();
    case Encoding::zlib: return std::make_unique<ZlibDecoder>();
    case Encoding::tight: return std::make_unique<TightDecoder>();
    case Encoding::zrle: return std::make_unique<ZrleDecoder>();
    default: return nullptr;
  }
}

}  // namespace vncgate::rfb
