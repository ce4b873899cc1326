// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace vncgate::record {

// Keep-alive frames of an unchanged screen without an encoder: copies of one H.264 P frame made only of skipped
// macroblocks (each shows its reference unchanged), renumbered. An idle recording can then free its x264
// encoder (tens of MiB of reference and look-ahead pictures) and still write a frame a second.
//
// Works on x264's Annex B output when the stream numbers pictures by frame_num alone (pic_order_cnt_type 2,
// which x264 uses without B-frames): the only field that differs between two skip frames is then frame_num,
// a fixed-width field near the start of the slice header. Every skip frame is a reference frame, so the
// next one (and the next real frame) predicts from it, and the sliding window keeps the numbering valid.
class SkipFrames {
 public:
  // `extradata`: the encoder's SPS/PPS (Annex B); `skip`: a packet of one P slice of skipped macroblocks made
  // by an encoder with the same settings and size. Nullopt when the stream is not numbered as required
  // (another pic_order_cnt_type, scaling matrices) or `skip` is not one reference P slice.
  static std::optional<SkipFrames> make(std::span<const std::uint8_t> extradata, std::span<const std::uint8_t> skip);

  // The frame_num of a packet's first slice (any packet of the same stream); nullopt when it has no slice.
  std::optional<int> frame_num(std::span<const std::uint8_t> packet) const;
  // The skip frame numbered `frame_num` (modulo MaxFrameNum), Annex B.
  std::vector<std::uint8_t> packet(int frame_num) const;
  // `packet` (Annex B, of the same stream) with the frame_num of its non-IDR slices moved on by `shift`: the
  // encoder's frames after skip frames it did not see. Same length fields, so the slice data is untouched.
  std::vector<std::uint8_t> renumbered(std::span<const std::uint8_t> packet, int shift) const;
  // The stream predicts from one reference picture only (max_num_ref_frames 1): skip frames may then be put
  // between the encoder's own frames, since each shows exactly the picture the encoder predicts from next.
  bool single_reference() const { return single_reference_; }
  int max_frame_num() const { return 1 << log2_max_frame_num_; }
  std::size_t size() const { return rbsp_.size(); }

 private:
  int log2_max_frame_num_ = 4;
  std::vector<std::uint8_t> rbsp_;  // the skip slice's NAL unit, header byte included, without emulation bytes
  std::size_t frame_num_bit_ = 0;   // where frame_num starts in rbsp_
  bool single_reference_ = false;
};

}  // namespace vncgate::record
