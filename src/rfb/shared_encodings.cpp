// SPDX-License-Identifier: Apache-2.0
#include "rfb/shared_encodings.hpp"

namespace vncgate::rfb {

std::shared_ptr<const EncodedPixels> SharedEncodings::get(const UpdatePlan& plan, const PictureFn& picture) {
  if (plan.pixels.empty()) return nullptr;
  if (entries_version_ != picture_version_) {
    entries_.clear();
    entries_version_ = picture_version_;
  }
  for (const auto& e : entries_)
    if (e.plan.pixels == plan.pixels && e.plan.params == plan.params) {
      ++shared_count_;
      return e.pixels;
    }
  auto pixels = std::make_shared<const EncodedPixels>(encode_pixels(picture(), plan.pixels.rects(), plan.params));
  ++encoded_count_;
  constexpr std::size_t kKept = 8;  // distinct plans per picture version; more is unusual
  if (entries_.size() == kKept) entries_.erase(entries_.begin());
  entries_.push_back({plan, pixels});
  return pixels;
}

void SharedEncodings::release() { std::vector<Entry>().swap(entries_); }

}  // namespace vncgate::rfb
