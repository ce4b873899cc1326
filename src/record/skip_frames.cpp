// SPDX-License-Identifier: Apache-2.0
#include "record/skip_frames.hpp"

#include <algorithm>
#include <iterator>

#include "util/error.hpp"

namespace vncgate::record {

namespace {

// The NAL units of an Annex B byte stream (start codes 00 00 01 or 00 00 00 01), without trailing zero bytes.
std::vector<std::span<const std::uint8_t>> nal_units(std::span<const std::uint8_t> stream) {
  std::vector<std::span<const std::uint8_t>> units;
  std::size_t start = std::span<const std::uint8_t>::extent;  // none yet
  auto close = [&](std::size_t end) {
    if (start == std::span<const std::uint8_t>::extent) return;
    while (end > start && stream[end - 1] == 0) --end;
    if (end > start) units.push_back(stream.subspan(start, end - start));
  };
  for (std::size_t i = 0; i + 2 < stream.size(); ++i) {
    if (stream[i] == 0 && stream[i + 1] == 0 && stream[i + 2] == 1) {
      close(i);
      start = i + 3;
      i += 2;
    }
  }
  close(stream.size());
  return units;
}

// Removes emulation prevention bytes (00 00 03 → 00 00).
std::vector<std::uint8_t> unescape(std::span<const std::uint8_t> nal) {
  std::vector<std::uint8_t> out;
  out.reserve(nal.size());
  int zeros = 0;
  for (const auto b : nal) {
    if (zeros >= 2 && b == 3) {
      zeros = 0;
      continue;
    }
    zeros = b == 0 ? zeros + 1 : 0;
    out.push_back(b);
  }
  return out;
}

// Inserts emulation prevention bytes where two zero bytes are followed by a byte <= 3.
std::vector<std::uint8_t> escape(std::span<const std::uint8_t> rbsp) {
  std::vector<std::uint8_t> out;
  out.reserve(rbsp.size() + rbsp.size() / 64 + 4);
  int zeros = 0;
  for (const auto b : rbsp) {
    if (zeros >= 2 && b <= 3) {
      out.push_back(3);
      zeros = 0;
    }
    zeros = b == 0 ? zeros + 1 : 0;
    out.push_back(b);
  }
  if (!out.empty() && out.back() == 0) out.push_back(3);  // a NAL unit never ends in a zero byte
  return out;
}

// Reads bits and Exp-Golomb codes; past the end it reads zeros and turns `bad`.
class BitReader {
 public:
  explicit BitReader(std::span<const std::uint8_t> bytes, std::size_t bit = 0) : bytes_(bytes), bit_(bit) {}
  unsigned u(int n) {
    unsigned v = 0;
    for (int i = 0; i < n; ++i) v = v << 1 | next();
    return v;
  }
  unsigned ue() {
    int zeros = 0;
    while (!bad_ && next() == 0) ++zeros;
    if (zeros > 31) bad_ = true;
    return bad_ ? 0 : (1u << zeros) - 1 + u(zeros);
  }
  bool bad() const { return bad_; }
  std::size_t position() const { return bit_; }

 private:
  unsigned next() {
    if (bit_ >= bytes_.size() * 8) {
      bad_ = true;
      return 0;
    }
    const unsigned b = bytes_[bit_ / 8] >> (7 - bit_ % 8) & 1;
    ++bit_;
    return b;
  }
  std::span<const std::uint8_t> bytes_;
  std::size_t bit_;
  bool bad_ = false;
};

constexpr int kSliceNonIdr = 1, kSliceIdr = 5, kSps = 7;

// Writes `value` into `width` bits of `rbsp` from bit `bit` on (most significant first).
void put_bits(std::vector<std::uint8_t>& rbsp, std::size_t bit, int width, unsigned value) {
  for (int i = 0; i < width; ++i, ++bit) {
    const auto mask = static_cast<std::uint8_t>(0x80 >> (bit % 8));
    if (value >> (width - 1 - i) & 1)
      rbsp[bit / 8] |= mask;
    else
      rbsp[bit / 8] &= static_cast<std::uint8_t>(~mask);
  }
}

void append_nal(std::vector<std::uint8_t>& out, std::span<const std::uint8_t> escaped) {
  static constexpr std::uint8_t kStartCode[] = {0, 0, 0, 1};
  out.insert(out.end(), std::begin(kStartCode), std::end(kStartCode));
  out.insert(out.end(), escaped.begin(), escaped.end());
}

// Where frame_num starts in a slice NAL unit (unescaped, header byte included); nullopt unless a P slice.
std::optional<std::size_t> frame_num_position(std::span<const std::uint8_t> rbsp) {
  BitReader r(rbsp, 8);
  r.ue();  // first_mb_in_slice
  const unsigned slice_type = r.ue();
  r.ue();  // pic_parameter_set_id
  if (r.bad() || slice_type % 5 != 0) return std::nullopt;
  return r.position();
}

}  // namespace

std::optional<SkipFrames> SkipFrames::make(std::span<const std::uint8_t> extradata,
                                           std::span<const std::uint8_t> skip) {
  SkipFrames s;
  bool have_sps = false;
  for (const auto nal : nal_units(extradata)) {
    if ((nal[0] & 0x1f) != kSps) continue;
    const auto rbsp = unescape(nal);
    BitReader r(rbsp, 8);
    const unsigned profile = r.u(8);
    r.u(16);  // constraint flags, level
    r.ue();   // seq_parameter_set_id
    if (profile == 100 || profile == 110 || profile == 122 || profile == 244 || profile == 44 || profile == 83 ||
        profile == 86 || profile == 118 || profile == 128 || profile == 138 || profile == 139 || profile == 134 ||
        profile == 135) {
      if (r.ue() == 3) r.u(1);          // chroma_format_idc, separate_colour_plane_flag
      r.ue();                           // bit_depth_luma_minus8
      r.ue();                           // bit_depth_chroma_minus8
      r.u(1);                           // qpprime_y_zero_transform_bypass_flag
      if (r.u(1)) return std::nullopt;  // scaling matrices: not parsed
    }
    s.log2_max_frame_num_ = static_cast<int>(r.ue()) + 4;
    const unsigned poc_type = r.ue();
    if (r.bad() || s.log2_max_frame_num_ > 16 || poc_type != 2) return std::nullopt;
    s.single_reference_ = r.ue() == 1 && !r.bad();  // max_num_ref_frames (follows pic_order_cnt_type 2)
    have_sps = true;
  }
  const auto units = nal_units(skip);
  if (!have_sps || units.size() != 1) return std::nullopt;
  const auto nal = units[0];
  if ((nal[0] & 0x1f) != kSliceNonIdr || (nal[0] & 0x60) == 0) return std::nullopt;  // a reference P slice
  s.rbsp_ = unescape(nal);
  const auto at = frame_num_position(s.rbsp_);
  if (!at || *at + s.log2_max_frame_num_ > s.rbsp_.size() * 8) return std::nullopt;
  s.frame_num_bit_ = *at;
  return s;
}

std::optional<int> SkipFrames::frame_num(std::span<const std::uint8_t> packet) const {
  for (const auto nal : nal_units(packet)) {
    const int type = nal[0] & 0x1f;
    if (type == kSliceIdr) return 0;
    if (type != kSliceNonIdr) continue;
    // The slice header fits in its first bytes.
    const auto rbsp = unescape(nal.first(std::min<std::size_t>(nal.size(), 32)));
    const auto at = frame_num_position(rbsp);
    if (!at) return std::nullopt;
    BitReader r(rbsp, *at);
    const auto n = r.u(log2_max_frame_num_);
    if (r.bad()) return std::nullopt;
    return static_cast<int>(n);
  }
  return std::nullopt;
}

std::vector<std::uint8_t> SkipFrames::packet(int frame_num) const {
  auto rbsp = rbsp_;
  put_bits(rbsp, frame_num_bit_, log2_max_frame_num_,
           static_cast<unsigned>(frame_num) & static_cast<unsigned>(max_frame_num() - 1));
  std::vector<std::uint8_t> out;
  append_nal(out, escape(rbsp));
  return out;
}

std::vector<std::uint8_t> SkipFrames::renumbered(std::span<const std::uint8_t> packet, int shift) const {
  std::vector<std::uint8_t> out;
  out.reserve(packet.size() + 16);
  for (const auto nal : nal_units(packet)) {
    if ((nal[0] & 0x1f) != kSliceNonIdr) {
      append_nal(out, nal);
      continue;
    }
    auto rbsp = unescape(nal);
    BitReader r(rbsp, 8);
    r.ue();  // first_mb_in_slice
    r.ue();  // slice_type
    r.ue();  // pic_parameter_set_id
    const std::size_t at = r.position();
    const unsigned n = r.u(log2_max_frame_num_);
    if (r.bad()) throw CodecError("an H.264 slice header too short to renumber");
    put_bits(rbsp, at, log2_max_frame_num_,
             (n + static_cast<unsigned>(shift)) & static_cast<unsigned>(max_frame_num() - 1));
    append_nal(out, escape(rbsp));
  }
  return out;
}

}  // namespace vncgate::record
