// SPDX-License-Identifier: Apache-2.0
#include "rfb/client_connection.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>

#include "rfb/client_connection_impl.hpp"
#include "rfb/cut_text.hpp"
#include "rfb/decoders/copy_rect_decoder.hpp"
#include "rfb/decoders/decoder.hpp"
#include "rfb/security/vnc_auth.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace vncgate::rfb {
namespace {

constexpr int kMaxDimension = 16384;          // larger framebuffers are hostile, not real consoles
constexpr long long kMaxPixels = 64ll << 20;  // 8192x8192; an 8K screen is 33 Mpx
constexpr std::size_t kMaxText = 16u << 20;   // reasons, names, clipboard text

enum SecurityType : std::uint8_t { kSecurityInvalid = 0, kSecurityNone = 1, kSecurityVncAuth = 2 };

std::string rect_text(const Rect& r) {
  return std::to_string(r.w) + "x" + std::to_string(r.h) + "+" + std::to_string(r.x) + "+" + std::to_string(r.y);
}

}  // namespace

ClientConnection::ClientConnection(ClientOptions options, ClientListener* listener)
    : options_(std::move(options)), listener_(listener), impl_(std::make_unique<Impl>()) {}

ClientConnection::~ClientConnection() {
  if (options_.picture_budget) options_.picture_budget->release(budget_charged_);
}

void ClientConnection::admit_size(int width, int height, const char* what) {
  const long long pixels = static_cast<long long>(width) * height;
  if (width > kMaxDimension || height > kMaxDimension || pixels > kMaxPixels || pixels > options_.max_pixels)
    throw ProtocolError(std::string(what) + " " + std::to_string(width) + "x" + std::to_string(height) +
                        " too large (at most " + std::to_string(std::min(options_.max_pixels, kMaxPixels)) +
                        " pixels)");
  auto& budget = options_.picture_budget;
  if (!budget) return;
  // The picture (4 bytes a pixel) and its painted-map (1 byte) are what a connection holds per pixel.
  const auto bytes = static_cast<std::uint64_t>(pixels) * 5;
  budget->release(budget_charged_);
  budget_charged_ = 0;
  if (!budget->reserve(bytes))
    throw ProtocolError(std::string(what) + " " + std::to_string(width) + "x" + std::to_string(height) +
                        " does not fit the picture memory budget (" + std::to_string(budget->limit() >> 20) +
                        " MiB for all consoles)");
  budget_charged_ = bytes;
}

bool ClientConnection::ready() const { return state_ == State::normal; }

void ClientConnection::feed(std::span<const std::uint8_t> bytes) {
  feeding_ = true;
  try {
    parse(bytes);
  } catch (...) {
    impl_->copies.apply_to(fb_);  // checked copies of the update that broke: the picture as far as it got
    feeding_ = false;
    hibernate_after_feed_ = false;
    throw;
  }
  impl_->copies.apply_to(fb_);
  feeding_ = false;
  if (std::exchange(hibernate_after_feed_, false)) hibernate();
}

void ClientConnection::parse(std::span<const std::uint8_t> bytes) {
  in_.append(bytes);
  for (;;) {
    in_.mark();
    const bool message = state_ == State::normal;
    const std::size_t start = in_.position();
    if (!step()) {
      in_.restore();
      return;
    }
    if (message && tap_) {
      const std::size_t n = in_.position() - start;
      tap_({in_.peek() - n, n});
    }
  }
}

std::vector<std::uint8_t> ClientConnection::take_output() {
  std::vector<std::uint8_t> out;
  out.swap(out_);
  return out;
}

bool ClientConnection::step() {
  switch (state_) {
    case State::version: return read_version();
    case State::security_types: return read_security_types();
    case State::security_type_33: return read_security_types();
    case State::vnc_challenge: return read_vnc_challenge();
    case State::security_result: return read_security_result();
    case State::server_init: return read_server_init();
    case State::normal: return in_update_ ? read_rect() : read_message();
  }
  return false;
}

// RFC 6143 §7.1.1: "RFB xxx.yyy\n". We speak the highest of 3.3/3.7/3.8 the server offers.
bool ClientConnection::read_version() {
  if (!in_.has(12)) return false;
  const auto* p = in_.take(12);
  std::string text(reinterpret_cast<const char*>(p), 12);
  int major = 0, minor = 0;
  if (std::sscanf(text.c_str(), "RFB %3d.%3d\n", &major, &minor) != 2 || text[11] != '\n')
    throw ProtocolError("not an RFB server (greeting was '" + text.substr(0, 11) + "')");
  if (major != 3 || minor < 3) throw ProtocolError("unsupported RFB version " + text.substr(4, 7));
  // Apple's 3.889 and future minors speak 3.8; 3.4-3.6 are treated as 3.3 as the RFC says.
  init_.protocol_minor = minor >= 8 ? 8 : minor == 7 ? 7 : 3;
  const std::string reply = "RFB 003.00" + std::to_string(init_.protocol_minor) + "\n";
  out_.insert(out_.end(), reply.begin(), reply.end());
  state_ = init_.protocol_minor == 3 ? State::security_type_33 : State::security_types;
  return true;
}

bool ClientConnection::read_failure_reason(const char* when) {
  if (!in_.has(4)) return false;
  const std::size_t length = in_.u32();
  if (length > kMaxText) throw ProtocolError(std::string(when) + ": reason text too long");
  if (!in_.has(length)) return false;
  const auto* p = in_.take(length);
  throw AuthError(std::string(reinterpret_cast<const char*>(p), length));
}

bool ClientConnection::read_security_types() {
  std::uint8_t chosen = kSecurityInvalid;
  if (state_ == State::security_type_33) {
    // RFB 3.3: the server decides (§7.2, "version 3.3" note) and sends a u32.
    if (!in_.has(4)) return false;
    const std::uint32_t type = in_.u32();
    if (type == kSecurityInvalid) return read_failure_reason("connection refused");
    if (type != kSecurityNone && type != kSecurityVncAuth)
      throw ProtocolError("server requires unsupported security type " + std::to_string(type));
    chosen = static_cast<std::uint8_t>(type);
  } else {
    if (!in_.has(1)) return false;
    const std::size_t count = in_.u8();
    if (count == 0) return read_failure_reason("connection refused");
    if (!in_.has(count)) return false;
    const auto* types = in_.take(count);
    const bool has_none = std::find(types, types + count, kSecurityNone) != types + count;
    const bool has_vnc = std::find(types, types + count, kSecurityVncAuth) != types + count;
    // A password given means the user expects VNC auth; otherwise prefer None when offered.
    if (has_vnc && (!options_.password.empty() || !has_none))
      chosen = kSecurityVncAuth;
    else if (has_none)
      chosen = kSecurityNone;
    if (chosen == kSecurityInvalid) {
      std::string offered;
      for (std::size_t i = 0; i < count; ++i) offered += (i ? ", " : "") + std::to_string(types[i]);
      throw ProtocolError("server offers no supported security type (offered: " + offered +
                          "; supported: 1 None, 2 VNC Authentication)");
    }
    out_.push_back(chosen);
  }
  init_.security_type = chosen;
  if (chosen == kSecurityVncAuth) {
    if (options_.password.empty()) throw AuthError("server requires a VNC password and none was given");
    state_ = State::vnc_challenge;
  } else if (init_.protocol_minor >= 8) {
    state_ = State::security_result;
  } else {
    write({static_cast<std::uint8_t>(options_.shared ? 1 : 0)});
    state_ = State::server_init;
  }
  return true;
}

bool ClientConnection::read_vnc_challenge() {
  if (!in_.has(16)) return false;
  std::memcpy(impl_->challenge, in_.take(16), 16);
  const auto response = vnc_auth_response(std::span<const std::uint8_t, 16>(impl_->challenge, 16), options_.password);
  out_.insert(out_.end(), response.begin(), response.end());
  state_ = State::security_result;
  return true;
}

bool ClientConnection::read_security_result() {
  if (!in_.has(4)) return false;
  const std::uint32_t result = in_.u32();
  if (result != 0) {
    // Only 3.8 sends a reason; older servers just close, and "Authentication failed" is what they mean.
    if (init_.protocol_minor >= 8) return read_failure_reason("security result");
    throw AuthError(result == 2 ? "Authentication failed: too many attempts" : "Authentication failed");
  }
  write({static_cast<std::uint8_t>(options_.shared ? 1 : 0)});
  state_ = State::server_init;
  return true;
}

bool ClientConnection::read_server_init() {
  if (!in_.has(24)) return false;
  const int width = in_.u16();
  const int height = in_.u16();
  const PixelFormat native = PixelFormat::parse(in_.take(16));
  const std::size_t name_length = in_.u32();
  if (name_length > kMaxText) throw ProtocolError("server name too long");
  if (!in_.has(name_length)) return false;
  init_.name.assign(reinterpret_cast<const char*>(in_.take(name_length)), name_length);
  admit_size(width, height, "framebuffer");
  init_.width = width;
  init_.height = height;
  init_.format = native;

  const PixelFormat wanted = options_.pixel_format.value_or(native);
  if (auto problem = wanted.validate(); !problem.empty())
    throw ProtocolError("unusable pixel format " + wanted.describe() + ": " + problem);
  if (options_.pixel_format) {
    write({0, 0, 0, 0});
    const auto pf = wanted.serialize();
    out_.insert(out_.end(), pf.begin(), pf.end());
  }
  conv_.set_format(wanted);
  // An adopted picture of this size stays (compacted or not) until painted over: a reconnect shows no black.
  if (width != fb_.width() || height != fb_.height()) fb_.resize(width, height);
  painted_.assign(static_cast<std::size_t>(width) * height, 0);
  unpainted_ = painted_.size();
  pointer_ = {width / 2, height / 2};
  send_set_encodings(options_.encodings);
  state_ = State::normal;
  spdlog::debug("rfb: connected to '{}' {}x{} RFB 3.{} format {}", init_.name, width, height, init_.protocol_minor,
                native.describe());
  if (listener_) listener_->on_connected(init_);
  request_update(false);
  return true;
}

bool ClientConnection::read_message() {
  if (!in_.has(1)) return false;
  const std::uint8_t type = in_.u8();
  switch (type) {
    case 0: return read_update();
    case 1: return read_colour_map();
    case 2:
      if (listener_) listener_->on_bell();
      return true;
    case 3: return read_cut_text();
    case 150: return true;  // EndOfContinuousUpdates: no payload
    case 248: return read_fence();
    case 250: {  // xvp: padding, version, code
      if (!in_.has(3)) return false;
      in_.skip(3);
      return true;
    }
    case 255: return read_qemu_server_message();
    default: throw ProtocolError("unknown server message type " + std::to_string(type));
  }
}

bool ClientConnection::read_update() {
  if (!in_.has(3)) return false;
  in_.skip(1);
  rects_left_ = in_.u16();
  in_update_ = true;
  damage_ = {};
  if (rects_left_ == 0) end_update();
  return true;
}

void ClientConnection::end_update() {
  impl_->copies.apply_to(fb_);
  in_update_ = false;
  rects_left_ = 0;
  // Servers may merge outstanding requests into one update (QEMU does), so any update answers them all;
  // counting them one by one could leave us waiting for an answer that never comes.
  update_requested_ = false;
  ++updates_completed_;
  if (spdlog::should_log(spdlog::level::debug))
    spdlog::debug("rfb: update {} done, damage {}, {} pixels never painted", updates_completed_, rect_text(damage_),
                  unpainted_);
  // Until the whole screen has been painted, keep asking: TigerVNC answers a full request with a
  // pseudo-encoding-only update (ExtendedDesktopSize) first and sends the pixels on the next request. The
  // follow-up must be incremental: every non-incremental request triggers another ExtendedDesktopSize.
  if (unpainted_ > 0) request_update(true);
  if (listener_) listener_->on_update(damage_);
}

bool ClientConnection::read_rect() {
  if (!in_.has(12)) return false;
  Rect r;
  r.x = in_.u16();
  r.y = in_.u16();
  r.w = in_.u16();
  r.h = in_.u16();
  const std::int32_t encoding = in_.s32();
  if (spdlog::should_log(spdlog::level::trace)) spdlog::trace("rfb: rect {} {}", rect_text(r), encoding_name(encoding));
  if (encoding == static_cast<std::int32_t>(Encoding::last_rect)) {
    end_update();
    return true;
  }
  if (!read_pseudo(r, encoding)) return false;
  if (--rects_left_ == 0) end_update();
  return true;
}

bool ClientConnection::read_pseudo(const Rect& r, std::int32_t encoding) {
  const bool copy = encoding == static_cast<std::int32_t>(Encoding::copy_rect);
  if (!copy) impl_->copies.apply_to(fb_);
  auto& stat = stats_[encoding];
  const std::size_t start = in_.available();
  auto counted = [&] {
    ++stat.rects;
    stat.bytes += start - in_.available() + 12;
    return true;
  };
  switch (static_cast<Encoding>(encoding)) {
    case Encoding::desktop_size: resize(r.w, r.h); return counted();
    case Encoding::extended_desktop_size: {
      if (!in_.has(4)) return false;
      const std::size_t screens = in_.u8();
      if (!in_.has(3 + screens * 16)) return false;
      in_.skip(3 + screens * 16);
      // x = reason (1: answer to our own SetDesktopSize), y = status; a refusal keeps the size.
      if (!(r.x == 1 && r.y != 0)) resize(r.w, r.h);
      extended_desktop_size_ = true;
      return counted();
    }
    case Encoding::cursor: {
      if (r.w > kMaxCursor || r.h > kMaxCursor) throw ProtocolError("cursor " + rect_text(r) + " too large");
      const std::size_t n = static_cast<std::size_t>(r.w) * r.h;
      const std::size_t mask_row = (static_cast<std::size_t>(r.w) + 7) / 8;
      const std::size_t bytes = n * conv_.format().bytes_per_pixel() + mask_row * r.h;
      if (!in_.has(bytes)) return false;
      const auto* p = in_.take(bytes);
      cursor_.width = r.w;
      cursor_.height = r.h;
      cursor_.hotspot_x = std::min(r.x, std::max(r.w - 1, 0));
      cursor_.hotspot_y = std::min(r.y, std::max(r.h - 1, 0));
      cursor_.pixels.resize(n);
      conv_.convert(p, cursor_.pixels.data(), n);
      const auto* mask = p + n * conv_.format().bytes_per_pixel();
      cursor_.mask.resize(n);
      for (int y = 0; y < r.h; ++y)
        for (int x = 0; x < r.w; ++x)
          cursor_.mask[static_cast<std::size_t>(y) * r.w + x] = (mask[y * mask_row + x / 8] >> (7 - x % 8)) & 1;
      if (listener_) listener_->on_cursor();
      return counted();
    }
    case Encoding::x_cursor: {
      if (r.w > kMaxCursor || r.h > kMaxCursor) throw ProtocolError("cursor " + rect_text(r) + " too large");
      const std::size_t row = (static_cast<std::size_t>(r.w) + 7) / 8;
      const std::size_t bytes = r.w * r.h == 0 ? 0 : 6 + 2 * row * r.h;
      if (!in_.has(bytes)) return false;
      const auto* p = in_.take(bytes);
      cursor_ = {};
      if (bytes) {
        cursor_.width = r.w;
        cursor_.height = r.h;
        cursor_.hotspot_x = std::min(r.x, r.w - 1);
        cursor_.hotspot_y = std::min(r.y, r.h - 1);
        const Pixel fg = framebuffer::make_pixel(p[0], p[1], p[2]);
        const Pixel bg = framebuffer::make_pixel(p[3], p[4], p[5]);
        const auto* bitmap = p + 6;
        const auto* mask = bitmap + row * r.h;
        for (int y = 0; y < r.h; ++y)
          for (int x = 0; x < r.w; ++x) {
            const int bit = 7 - x % 8;
            cursor_.pixels.push_back((bitmap[y * row + x / 8] >> bit) & 1 ? fg : bg);
            cursor_.mask.push_back((mask[y * row + x / 8] >> bit) & 1);
          }
      }
      if (listener_) listener_->on_cursor();
      return counted();
    }
    case Encoding::pointer_pos: pointer_ = {r.x, r.y}; return counted();
    case Encoding::qemu_extended_key_event: qemu_ext_keys_ = true; return counted();
    case Encoding::qemu_pointer_motion_change: return counted();
    case Encoding::qemu_led_state:
      if (!in_.has(1)) return false;
      led_state_ = in_.u8();
      return counted();
    case Encoding::vmware_led_state:
      if (!in_.has(4)) return false;
      led_state_ = in_.u32();
      return counted();
    case Encoding::desktop_name: {
      if (!in_.has(4)) return false;
      const std::size_t length = in_.u32();
      if (length > kMaxText) throw ProtocolError("desktop name too long");
      if (!in_.has(length)) return false;
      init_.name.assign(reinterpret_cast<const char*>(in_.take(length)), length);
      return counted();
    }
    case Encoding::wmvi: {
      if (!in_.has(16)) return false;
      const PixelFormat pf = PixelFormat::parse(in_.take(16));
      if (auto problem = pf.validate(); !problem.empty())
        throw ProtocolError("server switched to unusable pixel format " + pf.describe() + ": " + problem);
      conv_.set_format(pf);
      resize(r.w, r.h);
      return counted();
    }
    default: break;
  }

  // Raw needs no request (RFC 6143 §7.7.1: every client supports it); others only when we asked for them.
  const bool requested = encoding == static_cast<std::int32_t>(Encoding::raw) ||
                         std::find(options_.encodings.begin(), options_.encodings.end(),
                                   static_cast<Encoding>(encoding)) != options_.encodings.end();
  Decoder* decoder = requested ? impl_->decoder(encoding) : nullptr;
  if (!decoder)
    throw ProtocolError("server sent a rectangle in encoding " + encoding_name(encoding) + " which was not requested");
  if (!r.inside(fb_.width(), fb_.height()))
    throw ProtocolError(encoding_name(encoding) + " rectangle " + rect_text(r) + " lies outside the " +
                        std::to_string(fb_.width()) + "x" + std::to_string(fb_.height()) + " framebuffer");
  impl_->payload.clear();
  if (!decoder->gather(in_, r, conv_.format(), impl_->payload)) return false;
  if (rect_observer_) rect_observer_(static_cast<Encoding>(encoding), r, impl_->payload);
  if (!r.empty()) {
    wake();
    if (copy) {
      const Rect src = CopyRectDecoder::source(impl_->payload, r, fb_.width(), fb_.height());
      if (!impl_->copies.add(src, r.x, r.y)) {
        impl_->copies.apply_to(fb_);
        impl_->copies.add(src, r.x, r.y);
      }
    } else {
      decoder->decode(impl_->payload, r, conv_, fb_);
    }
    if (unpainted_ > 0) mark_painted(r);
  }
  damage_ = damage_.unite(r);
  stat.pixels += static_cast<std::uint64_t>(r.area());
  return counted();
}

bool ClientConnection::read_colour_map() {
  if (!in_.has(5)) return false;
  in_.skip(1);
  const int first = in_.u16();
  const std::size_t count = in_.u16();
  if (!in_.has(count * 6)) return false;
  std::vector<std::array<std::uint16_t, 3>> colours(count);
  for (auto& c : colours) c = {in_.u16(), in_.u16(), in_.u16()};
  conv_.set_colour_map_entries(first, colours);
  return true;
}

bool ClientConnection::read_cut_text() {
  std::optional<std::string> text;
  if (!read_cut_text_body(in_, kMaxText, "server", text)) return false;
  if (text && listener_) listener_->on_server_cut_text(*text);
  return true;
}

bool ClientConnection::read_fence() {
  if (!in_.has(8)) return false;
  in_.skip(7);
  const std::size_t length = in_.u8();
  if (length > 64) throw ProtocolError("fence payload longer than 64 bytes");
  if (!in_.has(length)) return false;
  in_.skip(length);
  return true;
}

bool ClientConnection::read_qemu_server_message() {
  if (!in_.has(3)) return false;
  const std::uint8_t submessage = in_.u8();
  const std::uint16_t operation = in_.u16();
  if (submessage != 1) throw ProtocolError("unknown QEMU server message " + std::to_string(submessage));
  if (operation == 2) {  // audio data
    if (!in_.has(4)) return false;
    const std::size_t length = in_.u32();
    if (length > kMaxText) throw ProtocolError("QEMU audio chunk too long");
    if (!in_.has(length)) return false;
    in_.skip(length);
  }
  return true;
}

void ClientConnection::resize(int width, int height) {
  if (width == fb_.width() && height == fb_.height()) return;
  admit_size(width, height, "desktop size");
  fb_.resize(width, height);
  painted_.assign(static_cast<std::size_t>(width) * height, 0);
  unpainted_ = painted_.size();
  init_.width = width;
  init_.height = height;
  damage_ = fb_.bounds();
  if (listener_) listener_->on_resize(width, height);
}

void ClientConnection::hibernate() {
  // From a listener callback (inside feed) the parser still holds positions into the input buffer.
  if (feeding_) {
    hibernate_after_feed_ = true;
    return;
  }
  fb_.compact();
  in_.release();
  std::vector<std::uint8_t>().swap(impl_->payload);
  for (auto& entry : impl_->decoders) entry.second->release_scratch();
  if (out_.empty())
    std::vector<std::uint8_t>().swap(out_);
  else
    out_.shrink_to_fit();
}

void ClientConnection::wake() { fb_.expand(); }

std::size_t ClientConnection::buffer_bytes() const {
  return fb_.heap_bytes() + in_.capacity() + out_.capacity() + impl_->payload.capacity() + painted_.capacity();
}

void ClientConnection::adopt_framebuffer(framebuffer::PixelBuffer picture) {
  if (ready()) throw std::logic_error("ClientConnection::adopt_framebuffer after ServerInit");
  fb_ = std::move(picture);
}

framebuffer::PixelBuffer ClientConnection::take_framebuffer() { return std::exchange(fb_, {}); }

void ClientConnection::mark_painted(const Rect& r) {
  for (int y = r.y; y < r.bottom(); ++y) {
    auto* row = painted_.data() + static_cast<std::size_t>(y) * fb_.width();
    for (int x = r.x; x < r.right(); ++x) {
      unpainted_ -= row[x] == 0;
      row[x] = 1;
    }
  }
  if (unpainted_ == 0) std::vector<std::uint8_t>().swap(painted_);
}

void ClientConnection::write(std::initializer_list<std::uint8_t> bytes) { out_.insert(out_.end(), bytes); }
void ClientConnection::write_u16(unsigned v) {
  write({static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)});
}
void ClientConnection::write_u32(std::uint32_t v) {
  write_u16(v >> 16);
  write_u16(v & 0xffff);
}

void ClientConnection::send_set_encodings(const std::vector<Encoding>& encodings) {
  write({2, 0});
  write_u16(static_cast<unsigned>(encodings.size()));
  for (auto e : encodings) write_u32(static_cast<std::uint32_t>(e));
  options_.encodings = encodings;
}

void ClientConnection::request_update(bool incremental) {
  if (state_ != State::normal) return;
  write({3, static_cast<std::uint8_t>(incremental ? 1 : 0)});
  write_u16(0);
  write_u16(0);
  write_u16(static_cast<unsigned>(fb_.width()));
  write_u16(static_cast<unsigned>(fb_.height()));
  update_requested_ = true;
}

void ClientConnection::send_key(std::uint32_t keysym, bool down) {
  write({4, static_cast<std::uint8_t>(down), 0, 0});
  write_u32(keysym);
}

bool ClientConnection::send_qemu_key(std::uint32_t keysym, std::uint32_t keycode, bool down) {
  if (!qemu_ext_keys_) return false;
  write({255, 0});
  write_u16(down ? 1 : 0);
  write_u32(keysym);
  write_u32(keycode);
  return true;
}

void ClientConnection::send_pointer(int x, int y, std::uint8_t buttons) {
  write({5, buttons});
  write_u16(static_cast<unsigned>(std::clamp(x, 0, 0xffff)));
  write_u16(static_cast<unsigned>(std::clamp(y, 0, 0xffff)));
}

bool ClientConnection::send_set_desktop_size(int width, int height) {
  if (!extended_desktop_size_ || width <= 0 || height <= 0 || width > 0xffff || height > 0xffff) return false;
  // rfbproto "SetDesktopSize": one screen covering the whole desktop.
  write({251, 0});
  write_u16(static_cast<unsigned>(width));
  write_u16(static_cast<unsigned>(height));
  write({1, 0});
  write_u32(0);  // screen id
  write_u16(0);
  write_u16(0);
  write_u16(static_cast<unsigned>(width));
  write_u16(static_cast<unsigned>(height));
  write_u32(0);  // flags
  return true;
}

void ClientConnection::send_cut_text(const std::string& latin1) {
  write({6, 0, 0, 0});
  write_u32(static_cast<std::uint32_t>(latin1.size()));
  out_.insert(out_.end(), latin1.begin(), latin1.end());
}

}  // namespace vncgate::rfb
