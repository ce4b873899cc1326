// SPDX-License-Identifier: Apache-2.0
#include "rfb/server_connection.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstdio>

#include "rfb/cut_text.hpp"
#include "rfb/encoders/wire.hpp"
#include "rfb/encoders/zrle_encoder.hpp"
#include "rfb/security/vnc_auth.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace vncgate::rfb {
namespace {

constexpr std::size_t kMaxCutText = 16u << 20;
constexpr std::size_t kMaxEncodings = 1024;  // real viewers send < 40
enum : std::uint8_t { kSecurityNone = 1, kSecurityVncAuth = 2 };

std::array<std::uint8_t, 16> random_challenge() {
  std::array<std::uint8_t, 16> c{};
  if (RAND_bytes(c.data(), static_cast<int>(c.size())) != 1) throw std::runtime_error("RAND_bytes failed");
  return c;
}

}  // namespace

ServerConnection::ServerConnection(ServerOptions options, int width, int height, ServerListener* listener)
    : options_(std::move(options)), listener_(listener), width_(width), height_(height) {
  const std::string_view version = "RFB 003.008\n";
  out_.insert(out_.end(), version.begin(), version.end());
}

ServerConnection::~ServerConnection() = default;

void ServerConnection::feed(std::span<const std::uint8_t> bytes) {
  in_.append(bytes);
  for (;;) {
    if (state_ == State::closed) return;  // anything after a failed login is ignored
    in_.mark();
    if (!step()) {
      in_.restore();
      return;
    }
  }
}

io::Output ServerConnection::take_output_pieces() {
  io::Output out;
  std::swap(out, queued_);
  std::vector<std::uint8_t> tail;
  tail.swap(out_);
  out.append(std::move(tail));
  return out;
}

std::vector<std::uint8_t> ServerConnection::take_output() {
  if (queued_.empty()) {
    std::vector<std::uint8_t> out;
    out.swap(out_);
    return out;
  }
  return take_output_pieces().flatten();
}

bool ServerConnection::step() {
  switch (state_) {
    case State::version: return read_version();
    case State::security_choice: return read_security_choice();
    case State::vnc_response: return read_vnc_response();
    case State::client_init: return read_client_init();
    case State::normal: return read_message();
    case State::closed: return false;
  }
  return false;
}

// RFC 6143 §7.1.1; 3.4-3.6 are 3.3 and anything above 3.8 speaks 3.8 (Apple's 3.889).
bool ServerConnection::read_version() {
  if (!in_.has(12)) return false;
  const std::string text(reinterpret_cast<const char*>(in_.take(12)), 12);
  int major = 0, minor = 0;
  if (std::sscanf(text.c_str(), "RFB %3d.%3d\n", &major, &minor) != 2 || text[11] != '\n' || major != 3 || minor < 3)
    throw ProtocolError("not an RFB 3.x viewer (greeting was '" + text.substr(0, 11) + "')");
  minor_ = minor >= 8 ? 8 : minor == 7 ? 7 : 3;
  offer_security();
  return true;
}

void ServerConnection::offer_security() {
  security_ = options_.password.empty() ? kSecurityNone : kSecurityVncAuth;
  if (minor_ == 3) {  // §7.2, version 3.3: the server decides
    write_u32(security_);
    if (security_ == kSecurityVncAuth) {
      challenge_ = options_.challenge ? options_.challenge() : random_challenge();
      out_.insert(out_.end(), challenge_.begin(), challenge_.end());
      state_ = State::vnc_response;
    } else {
      state_ = State::client_init;
    }
    return;
  }
  write_u8(1);
  write_u8(security_);
  state_ = State::security_choice;
}

bool ServerConnection::read_security_choice() {
  if (!in_.has(1)) return false;
  const std::uint8_t chosen = in_.u8();
  if (chosen != security_) {
    fail_auth("viewer chose security type " + std::to_string(chosen) + ", offered only " + std::to_string(security_));
    return true;
  }
  if (security_ == kSecurityVncAuth) {
    challenge_ = options_.challenge ? options_.challenge() : random_challenge();
    out_.insert(out_.end(), challenge_.begin(), challenge_.end());
    state_ = State::vnc_response;
  } else {
    security_ok();
  }
  return true;
}

bool ServerConnection::read_vnc_response() {
  if (!in_.has(16)) return false;
  const auto* response = in_.take(16);
  const auto expected = vnc_auth_response(challenge_, options_.password);
  if (CRYPTO_memcmp(response, expected.data(), expected.size()) != 0) {
    fail_auth("Authentication failed");
    return true;
  }
  security_ok();
  return true;
}

// SecurityResult: always in 3.8; in 3.3/3.7 only after VNC Authentication (§7.1.3).
void ServerConnection::security_ok() {
  if (minor_ == 8 || security_ == kSecurityVncAuth) write_u32(0);
  state_ = State::client_init;
}

void ServerConnection::fail_auth(const std::string& reason) {
  write_u32(1);
  if (minor_ == 8) {
    write_u32(static_cast<std::uint32_t>(reason.size()));
    out_.insert(out_.end(), reason.begin(), reason.end());
  }
  close_reason_ = reason;
  state_ = State::closed;
}

bool ServerConnection::read_client_init() {
  if (!in_.has(1)) return false;
  const bool shared = in_.u8() != 0;
  write_u16(static_cast<unsigned>(width_));
  write_u16(static_cast<unsigned>(height_));
  const auto pf = PixelFormat::canonical().serialize();
  out_.insert(out_.end(), pf.begin(), pf.end());
  write_u32(static_cast<std::uint32_t>(options_.name.size()));
  out_.insert(out_.end(), options_.name.begin(), options_.name.end());
  resize_pending_ = false;  // ServerInit carried the current size
  state_ = State::normal;
  if (listener_) listener_->on_client_init(shared);
  return true;
}

bool ServerConnection::read_message() {
  if (!in_.has(1)) return false;
  switch (const std::uint8_t type = in_.u8()) {
    case 0: return read_set_pixel_format();
    case 2: return read_set_encodings();
    case 3: return read_update_request();
    case 4: {
      if (!in_.has(7)) return false;
      const bool down = in_.u8() != 0;
      in_.skip(2);
      const std::uint32_t keysym = in_.u32();
      if (listener_) listener_->on_key(keysym, down);
      return true;
    }
    case 5: {
      if (!in_.has(5)) return false;
      const std::uint8_t buttons = in_.u8();
      const int x = in_.u16();
      const int y = in_.u16();
      if (listener_) listener_->on_pointer(x, y, buttons);
      return true;
    }
    case 6: return read_cut_text();
    case 150: {  // EnableContinuousUpdates: never offered, tolerated and ignored
      if (!in_.has(9)) return false;
      in_.skip(9);
      return true;
    }
    case 248: {  // Fence: never offered; skip its payload
      if (!in_.has(8)) return false;
      in_.skip(7);
      const std::size_t length = in_.u8();
      if (length > 64) throw ProtocolError("viewer fence payload longer than 64 bytes");
      if (!in_.has(length)) return false;
      in_.skip(length);
      return true;
    }
    case 251: return read_set_desktop_size();
    case 255: return read_qemu_message();
    default: throw ProtocolError("unknown viewer message type " + std::to_string(type));
  }
}

bool ServerConnection::read_set_pixel_format() {
  if (!in_.has(19)) return false;
  in_.skip(3);
  const PixelFormat pf = PixelFormat::parse(in_.take(16));
  if (auto problem = pf.validate(); !problem.empty())
    throw ProtocolError("viewer asked for unusable pixel format " + pf.describe() + ": " + problem);
  writer_ = PixelWriter(pf);
  if (!pf.true_colour) {  // SetColourMapEntries (§7.6.2) with our fixed palette
    write_u8(1);
    write_u8(0);
    write_u16(0);
    write_u16(256);
    for (const auto& c : PixelWriter::colour_map())
      for (auto v : c) write_u16(v);
  }
  dirty_ = framebuffer::Damage({0, 0, width_, height_});  // what the viewer holds is in the old format
  copy_.clear();
  return true;
}

bool ServerConnection::read_set_encodings() {
  if (!in_.has(3)) return false;
  in_.skip(1);
  const std::size_t count = in_.u16();
  if (count > kMaxEncodings) throw ProtocolError("viewer sent " + std::to_string(count) + " encodings");
  if (!in_.has(count * 4)) return false;
  encodings_.clear();
  for (std::size_t i = 0; i < count; ++i) encodings_.push_back(in_.s32());
  announce_qemu_keys_ = supports(Encoding::qemu_extended_key_event);
  // The first quality and compression pseudo-encodings count, as for any preference.
  compress_level_ = 1;
  jpeg_quality_ = -1;
  bool have_compress = false;
  for (const std::int32_t e : encodings_) {
    // 64-bit: a hostile encoding number near INT32_MAX must not overflow (found by fuzz_viewer_messages).
    const std::int64_t quality = std::int64_t{e} - static_cast<std::int32_t>(Encoding::jpeg_quality_level_0);
    const std::int64_t compress = std::int64_t{e} - static_cast<std::int32_t>(Encoding::compress_level_0);
    if (quality >= 0 && quality <= 9 && jpeg_quality_ < 0) jpeg_quality_ = static_cast<int>(quality);
    if (compress >= 0 && compress <= 9 && !have_compress)
      compress_level_ = static_cast<int>(compress), have_compress = true;
  }
  spdlog::debug("rfb server: viewer sent {} encodings, pixels go as {} (JPEG quality {}, compression {})", count,
                encoding_name(static_cast<std::int32_t>(pixel_encoding())), jpeg_quality_, compress_level_);
  return true;
}

bool ServerConnection::read_update_request() {
  if (!in_.has(9)) return false;
  const bool incremental = in_.u8() != 0;
  framebuffer::Rect r;
  r.x = in_.u16();
  r.y = in_.u16();
  r.w = in_.u16();
  r.h = in_.u16();
  r = r.intersect({0, 0, width_, height_});
  requested_ = request_pending_ ? requested_.unite(r) : r;
  request_pending_ = true;
  if (!incremental) dirty_.add(r);  // send the area even if unchanged
  return true;
}

bool ServerConnection::read_cut_text() {
  std::optional<std::string> text;
  if (!read_cut_text_body(in_, kMaxCutText, "viewer", text)) return false;
  if (text && listener_) listener_->on_cut_text(*text);
  return true;
}

// QEMU client message (rfbproto "QEMU Client Message"): 0 extended key event, 1 audio.
bool ServerConnection::read_qemu_message() {
  if (!in_.has(1)) return false;
  const std::uint8_t submessage = in_.u8();
  if (submessage == 0) {
    if (!in_.has(10)) return false;
    const bool down = in_.u16() != 0;
    const std::uint32_t keysym = in_.u32();
    const std::uint32_t keycode = in_.u32();
    if (listener_) listener_->on_qemu_key(keysym, keycode, down);
    return true;
  }
  if (submessage == 1) {
    if (!in_.has(2)) return false;
    const unsigned operation = in_.u16();
    if (operation == 2) {  // set format: u8 format, u8 channels, u32 frequency
      if (!in_.has(6)) return false;
      in_.skip(6);
    } else if (operation > 2) {
      throw ProtocolError("unknown QEMU audio operation " + std::to_string(operation));
    }
    return true;
  }
  throw ProtocolError("unknown QEMU client message " + std::to_string(submessage));
}

// rfbproto "SetDesktopSize": padding, width, height, screen count, padding, 16 bytes per screen.
bool ServerConnection::read_set_desktop_size() {
  if (!in_.has(7)) return false;
  in_.skip(1);
  const int width = in_.u16();
  const int height = in_.u16();
  const std::size_t screens = in_.u8();
  in_.skip(1);
  if (!in_.has(screens * 16)) return false;
  in_.skip(screens * 16);
  if (width == 0 || height == 0 || screens == 0) throw ProtocolError("viewer sent an empty SetDesktopSize");
  if (listener_) listener_->on_set_desktop_size(width, height);
  return true;
}

bool ServerConnection::supports(Encoding e) const {
  return std::find(encodings_.begin(), encodings_.end(), static_cast<std::int32_t>(e)) != encodings_.end();
}

void ServerConnection::framebuffer_changed(const framebuffer::Rect& r) {
  dirty_.add(r.intersect({0, 0, width_, height_}));
}

void ServerConnection::framebuffer_changed(const framebuffer::Damage& d) {
  dirty_.add(d.intersect({0, 0, width_, height_}));
}

void ServerConnection::framebuffer_copied(const framebuffer::Rect& dst, int src_x, int src_y) {
  framebuffer_moved({&dst, 1}, dst.x - src_x, dst.y - src_y);
}

void ServerConnection::framebuffer_moved(std::span<const framebuffer::Rect> dsts, int dx, int dy) {
  const bool can_copy = state_ == State::normal && !resize_pending_ && supports(Encoding::copy_rect);
  std::vector<framebuffer::Rect> copies, changed;
  for (const auto& dst : dsts) {
    if (dst.empty()) continue;
    const bool fits = dst.inside(width_, height_) && dst.translated(-dx, -dy).inside(width_, height_);
    (can_copy && fits ? copies : changed).push_back(dst);
  }
  copy_.add(copies, dx, dy, dirty_);
  for (const auto& r : changed) framebuffer_changed(r);
}

void ServerConnection::framebuffer_resized(int width, int height) {
  if (width == width_ && height == height_) return;
  width_ = width;
  height_ = height;
  dirty_ = framebuffer::Damage({0, 0, width, height});
  copy_.clear();
  if (state_ != State::normal) return;  // ServerInit will carry it
  resize_pending_ = true;
  if (!supports(Encoding::extended_desktop_size) && !supports(Encoding::desktop_size)) {
    close_reason_ = "the viewer cannot follow a desktop size change (no DesktopSize support)";
    state_ = State::closed;
  }
}

void ServerConnection::write_rect_header(const framebuffer::Rect& r, std::int32_t encoding) {
  put_rect_header(out_, r, encoding);
}

Encoding ServerConnection::pixel_encoding() const {
  for (const std::int32_t e : encodings_)
    for (const Encoding ours : {Encoding::tight, Encoding::zrle, Encoding::hextile, Encoding::raw})
      if (e == static_cast<std::int32_t>(ours)) return ours;
  return Encoding::raw;  // every viewer decodes Raw, named or not
}

PixelParams ServerConnection::pixel_params() const {
  return {pixel_encoding(), writer_.format(), compress_level_, jpeg_quality_};
}

std::optional<UpdatePlan> ServerConnection::plan_update() const {
  if (state_ != State::normal || !request_pending_) return std::nullopt;
  if (resize_pending_) return UpdatePlan{framebuffer::Damage({0, 0, width_, height_}), pixel_params(), false};
  // Copies whose destinations the viewer did not all ask for go as pixels (with whatever else is dirty).
  const auto& pieces = copy_.pieces();
  const bool copy = !copy_.empty() && std::all_of(pieces.begin(), pieces.end(), [&](const framebuffer::Rect& p) {
    return p.intersect(requested_) == p;
  });
  auto dirty = dirty_;
  if (!copy)
    for (const auto& p : pieces) dirty.add(p);
  UpdatePlan plan{dirty.intersect(requested_), pixel_params(), copy};
  if (plan.pixels.empty() && !copy && !announce_qemu_keys_) return std::nullopt;
  return plan;
}

bool ServerConnection::send_update(const framebuffer::PixelBuffer& fb) {
  const auto plan = plan_update();
  if (!plan) return false;
  if (fb.width() != width_ || fb.height() != height_)
    throw std::logic_error("ServerConnection::send_update: framebuffer size was not reported");
  if (plan->pixels.empty()) {
    queue_update(*plan, nullptr, nullptr);
  } else {
    const auto pixels = encode_pixels(fb, plan->pixels.rects(), plan->params);
    queue_update(*plan, &pixels, nullptr);
  }
  return true;
}

void ServerConnection::send_update(const UpdatePlan& plan, const EncodedPixels* pixels) {
  queue_update(plan, pixels, nullptr);
}

void ServerConnection::send_update(const UpdatePlan& plan, std::shared_ptr<const EncodedPixels> pixels) {
  const auto* raw = pixels.get();
  queue_update(plan, raw, std::move(pixels));
}

void ServerConnection::queue_update(const UpdatePlan& plan, const EncodedPixels* pixels,
                                    std::shared_ptr<const EncodedPixels> shared) {
  if (!plan.pixels.empty() && (!pixels || pixels->rects < 1))
    throw std::logic_error("ServerConnection::send_update: planned pixels were not encoded");
  const int pixel_rects = plan.pixels.empty() ? 0 : pixels->rects;
  const std::size_t copies = plan.copy ? copy_.pieces().size() : 0;
  const std::size_t rects =
      (resize_pending_ ? 1 : 0) + (announce_qemu_keys_ ? 1 : 0) + copies + static_cast<std::size_t>(pixel_rects);
  if (rects > 0xffff) throw std::logic_error("ServerConnection: update of more than 65535 rectangles");
  write_u8(0);
  write_u8(0);
  write_u16(static_cast<unsigned>(rects));
  if (resize_pending_) {
    if (supports(Encoding::extended_desktop_size)) {
      // x = 0: the server changed the size; y = 0: no error; one screen covering everything.
      write_rect_header({0, 0, width_, height_}, static_cast<std::int32_t>(Encoding::extended_desktop_size));
      write_u8(1);
      write_u8(0);
      write_u16(0);
      write_u32(0);  // screen id
      write_u16(0);
      write_u16(0);
      write_u16(static_cast<unsigned>(width_));
      write_u16(static_cast<unsigned>(height_));
      write_u32(0);  // flags
    } else {
      write_rect_header({0, 0, width_, height_}, static_cast<std::int32_t>(Encoding::desktop_size));
    }
  }
  if (announce_qemu_keys_) {
    write_rect_header({}, static_cast<std::int32_t>(Encoding::qemu_extended_key_event));
    announce_qemu_keys_ = false;
  }
  if (copies > 0) {
    for (const auto& p : copy_.pieces()) {
      write_rect_header(p, static_cast<std::int32_t>(Encoding::copy_rect));
      write_u16(static_cast<unsigned>(p.x - copy_.dx()));
      write_u16(static_cast<unsigned>(p.y - copy_.dy()));
    }
    copy_.clear();
  } else {
    copy_.drop_into(dirty_);  // planned as pixels
  }
  if (pixel_rects > 0) {
    // The viewer's inflaters live as long as the connection: a stream's first data carries the zlib header.
    unsigned& started = plan.params.encoding == Encoding::zrle ? zrle_streams_started_ : tight_streams_started_;
    const unsigned fresh = pixels->zlib_streams() & ~started;
    if (fresh) {
      append_pixels(out_, *pixels, plan.params.encoding, fresh);
    } else if (shared) {
      // The header written so far, then the shared bytes themselves: the same memory for every viewer.
      queued_.append(std::move(out_));
      out_.clear();
      queued_.append_shared(shared, pixels->bytes);
    } else {
      out_.insert(out_.end(), pixels->bytes.begin(), pixels->bytes.end());
    }
    started |= pixels->zlib_streams();
  }
  dirty_.subtract(resize_pending_ ? framebuffer::Rect{0, 0, width_, height_} : requested_);
  resize_pending_ = false;
  request_pending_ = false;
  requested_ = {};
}

void ServerConnection::send_bell() {
  if (state_ == State::normal) write_u8(2);
}

void ServerConnection::send_cut_text(const std::string& latin1) {
  if (state_ != State::normal) return;
  write_u8(3);
  write_u8(0);
  write_u16(0);
  write_u32(static_cast<std::uint32_t>(latin1.size()));
  out_.insert(out_.end(), latin1.begin(), latin1.end());
}

void ServerConnection::write_u16(unsigned v) { put_u16(out_, v); }

void ServerConnection::write_u32(std::uint32_t v) { put_u32(out_, v); }

}  // namespace vncgate::rfb
