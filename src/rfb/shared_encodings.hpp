// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "framebuffer/pixel_buffer.hpp"
#include "rfb/server_connection.hpp"

namespace vncgate::rfb {

// The encodings of the current picture, shared by viewers that are owed the same area in the same pixel
// parameters (UpdatePlan): a change is encoded once however many viewers watch it. The picture's owner calls
// picture_changed() for every change, which drops what was encoded of the old picture. Single-threaded (the
// owner's strand).
class SharedEncodings {
 public:
  using PictureFn = std::function<const framebuffer::PixelBuffer&()>;

  void picture_changed() { ++picture_version_; }
  // The plan's pixels of the current picture: encoded now from `picture()` (called only then, so a hibernating
  // picture is woken only when something must be encoded) or shared with an earlier viewer's equal plan. Null
  // when the plan has no pixels.
  std::shared_ptr<const EncodedPixels> get(const UpdatePlan& plan, const PictureFn& picture);
  // Frees the kept encodings (an idle session).
  void release();

  std::uint64_t encoded() const { return encoded_count_; }
  std::uint64_t shared() const { return shared_count_; }

 private:
  struct Entry {
    UpdatePlan plan;
    std::shared_ptr<const EncodedPixels> pixels;
  };
  std::vector<Entry> entries_;  // encodings of picture version entries_version_
  std::uint64_t picture_version_ = 0, entries_version_ = 0;
  std::uint64_t encoded_count_ = 0, shared_count_ = 0;
};

}  // namespace vncgate::rfb
