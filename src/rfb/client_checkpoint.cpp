// SPDX-License-Identifier: Apache-2.0
// ClientConnection's FBS checkpoints (docs/fbs.md §7): the decoding state between two server messages, saved
// so that a replay can start there instead of at the beginning of the recording.
#include <algorithm>

#include "framebuffer/pixel_packing.hpp"
#include "rfb/client_connection.hpp"
#include "rfb/client_connection_impl.hpp"
#include "util/byte_cursor.hpp"

namespace vncgate::rfb {
namespace {

constexpr std::uint32_t kCheckpointVersion = 1;
constexpr std::size_t kMaxCheckpointName = 64 * 1024;
constexpr std::uint32_t kMaxCheckpointDecoders = 16;

void append_format(std::vector<std::uint8_t>& out, const PixelFormat& pf) {
  const auto bytes = pf.serialize();
  out.insert(out.end(), bytes.begin(), bytes.end());
}

PixelFormat read_format(ByteCursor& in) {
  const auto pf = PixelFormat::parse(in.take(16).data());
  if (auto problem = pf.validate(); !problem.empty()) in.fail("holds an unusable pixel format: " + problem);
  return pf;
}

void append_pixels(std::vector<std::uint8_t>& out, std::span<const framebuffer::Pixel> pixels) {
  for (auto p : pixels) append_u32(out, p);
}

void read_pixels(ByteCursor& in, std::span<framebuffer::Pixel> pixels) {
  for (auto& p : pixels) p = in.u32() & 0xffffff;
}

}  // namespace

// Layout (big endian): version; ServerInit (width, height, native format, name, minor, security type); the
// format in force and its colour map; pointer, LEDs, flags, updates so far; cursor; picture (packed); then
// each decoder's encoding and state.
std::optional<std::vector<std::uint8_t>> ClientConnection::save_checkpoint() const {
  if (state_ != State::normal || in_update_ || in_.available() != 0 || unpainted_ != 0) return std::nullopt;
  std::vector<std::uint8_t> out;
  append_u32(out, kCheckpointVersion);
  append_u32(out, static_cast<std::uint32_t>(init_.width));
  append_u32(out, static_cast<std::uint32_t>(init_.height));
  append_format(out, init_.format);
  append_sized(out, {reinterpret_cast<const std::uint8_t*>(init_.name.data()), init_.name.size()});
  append_u8(out, static_cast<std::uint32_t>(init_.protocol_minor));
  append_u8(out, static_cast<std::uint32_t>(init_.security_type));
  append_format(out, conv_.format());
  append_pixels(out, conv_.colour_map());
  append_u32(out, static_cast<std::uint32_t>(pointer_[0]));
  append_u32(out, static_cast<std::uint32_t>(pointer_[1]));
  append_u32(out, led_state_);
  append_u8(out, (qemu_ext_keys_ ? 1u : 0u) | (extended_desktop_size_ ? 2u : 0u));
  append_u64(out, updates_completed_);
  append_u32(out, static_cast<std::uint32_t>(cursor_.width));
  append_u32(out, static_cast<std::uint32_t>(cursor_.height));
  append_u32(out, static_cast<std::uint32_t>(cursor_.hotspot_x));
  append_u32(out, static_cast<std::uint32_t>(cursor_.hotspot_y));
  append_pixels(out, cursor_.pixels);
  out.insert(out.end(), cursor_.mask.begin(), cursor_.mask.end());

  const auto packed = fb_.packed();
  append_u8(out, static_cast<std::uint32_t>(packed.bits));
  append_u32(out, static_cast<std::uint32_t>(packed.palette.size()));
  append_pixels(out, packed.palette);
  append_sized(out, packed.data);

  append_u32(out, static_cast<std::uint32_t>(impl_->decoders.size()));
  for (const auto& [encoding, decoder] : impl_->decoders) {
    append_u32(out, static_cast<std::uint32_t>(encoding));
    if (!decoder->save_state(out)) return std::nullopt;
  }
  return out;
}

void ClientConnection::restore_checkpoint(std::span<const std::uint8_t> bytes) {
  if (state_ != State::version || in_.available() != 0)
    throw std::logic_error("ClientConnection::restore_checkpoint on a connection that was fed");
  ByteCursor in(bytes, "FBS checkpoint");
  if (in.u32() != kCheckpointVersion) in.fail("has an unknown version");
  ServerInit init;
  init.width = static_cast<int>(std::min<std::uint32_t>(in.u32(), 1u << 30));
  init.height = static_cast<int>(std::min<std::uint32_t>(in.u32(), 1u << 30));
  init.format = read_format(in);
  const auto name = in.sized(kMaxCheckpointName);
  init.name.assign(name.begin(), name.end());
  init.protocol_minor = static_cast<int>(in.u8());
  init.security_type = static_cast<int>(in.u8());
  if (init.protocol_minor != 3 && init.protocol_minor != 7 && init.protocol_minor != 8)
    in.fail("holds an unknown RFB version");
  PixelConverter conv(read_format(in));
  std::array<framebuffer::Pixel, 256> colours{};
  read_pixels(in, colours);
  conv.set_colour_map(colours);
  const std::array<int, 2> pointer{static_cast<int>(in.u32() & 0xffff), static_cast<int>(in.u32() & 0xffff)};
  const std::uint32_t leds = in.u32();
  const std::uint32_t flags = in.u8();
  const std::uint64_t updates = in.u64();

  framebuffer::Cursor cursor;
  cursor.width = static_cast<int>(std::min<std::uint32_t>(in.u32(), kMaxCursor + 1));
  cursor.height = static_cast<int>(std::min<std::uint32_t>(in.u32(), kMaxCursor + 1));
  cursor.hotspot_x = static_cast<int>(std::min<std::uint32_t>(in.u32(), kMaxCursor + 1));
  cursor.hotspot_y = static_cast<int>(std::min<std::uint32_t>(in.u32(), kMaxCursor + 1));
  if (cursor.width > kMaxCursor || cursor.height > kMaxCursor || cursor.hotspot_x >= std::max(cursor.width, 1) ||
      cursor.hotspot_y >= std::max(cursor.height, 1))
    in.fail("holds an impossible cursor");
  const auto cursor_pixels = static_cast<std::size_t>(cursor.width) * cursor.height;
  cursor.pixels.resize(cursor_pixels);
  read_pixels(in, cursor.pixels);
  const auto mask = in.take(cursor_pixels);
  cursor.mask.assign(mask.begin(), mask.end());
  if (std::any_of(mask.begin(), mask.end(), [](std::uint8_t m) { return m > 1; })) in.fail("holds a bad cursor mask");

  admit_size(init.width, init.height, "checkpoint framebuffer");
  framebuffer::PackedPixels packed;
  packed.bits = static_cast<int>(in.u8());
  const std::uint32_t palette = in.u32();
  if (palette > 256) in.fail("holds a palette of more than 256 colours");
  packed.palette.resize(palette);
  read_pixels(in, packed.palette);
  packed.count = static_cast<std::size_t>(init.width) * init.height;
  const auto data = in.sized(packed.count * sizeof(framebuffer::Pixel) + (1u << 20));
  packed.data.assign(data.begin(), data.end());
  framebuffer::PixelBuffer fb(init.width, init.height);
  if (!framebuffer::unpack_checked(packed, fb.pixels())) in.fail("holds a picture that does not unpack");

  const std::uint32_t decoder_count = in.u32();
  if (decoder_count > kMaxCheckpointDecoders) in.fail("holds too many decoders");
  std::map<std::int32_t, std::unique_ptr<Decoder>> decoders;
  for (std::uint32_t i = 0; i < decoder_count; ++i) {
    const auto encoding = static_cast<std::int32_t>(in.u32());
    auto decoder = make_decoder(static_cast<Encoding>(encoding));
    if (!decoder || decoders.contains(encoding)) in.fail("names an unknown or repeated encoding");
    decoder->restore_state(in);
    decoders.emplace(encoding, std::move(decoder));
  }
  if (in.remaining() != 0) in.fail("has bytes after its end");

  // Everything read and checked: the connection continues from here.
  init_ = std::move(init);
  conv_ = std::move(conv);
  pointer_ = pointer;
  led_state_ = leds;
  qemu_ext_keys_ = flags & 1;
  extended_desktop_size_ = flags & 2;
  updates_completed_ = updates;
  cursor_ = std::move(cursor);
  fb_ = std::move(fb);
  std::vector<std::uint8_t>().swap(painted_);
  unpainted_ = 0;
  impl_->decoders = std::move(decoders);
  impl_->copies = {};
  state_ = State::normal;
  if (listener_) listener_->on_connected(init_);
}

}  // namespace vncgate::rfb
