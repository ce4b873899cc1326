// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "rfb/blocking_client.hpp"
#include "rfb/encoding.hpp"
#include "rfb/pixel_format.hpp"
#include "support/image.hpp"

// Shared by the RFB integration tests: client options, "pull updates until the client matches the oracle",
// and statistics helpers.
namespace vncgate::test {

// `encodings` followed by rfb::pseudo_encodings() (Cursor among them, so servers do not draw the pointer
// into the framebuffer).
rfb::ClientOptions client_options(const std::vector<rfb::Encoding>& encodings,
                                  std::optional<rfb::PixelFormat> format = rfb::PixelFormat::canonical(),
                                  std::string password = {});

// "tight", "copyrect_zrle": usable as a gtest parameter name.
std::string encodings_label(const std::vector<rfb::Encoding>& encodings);

// Compares the client's framebuffer with `oracle()` (under `mask`); while they differ, asks for an incremental
// update (waiting up to 500 ms) and compares again, until `timeout`. Returns "" on a match, else the last
// diff_summary plus where both images were saved ($TMPDIR/vncgate-failures/<label>-{expected,actual}.ppm).
std::string converge(rfb::BlockingClient& client, const std::function<PixelBuffer()>& oracle,
                     std::chrono::milliseconds timeout, Pixel mask, const std::string& label);

// Asks for incremental updates until none arrives for `quiet`; false when the screen kept changing until
// `timeout`. Counts the updates seen in `*updates` when given.
bool wait_until_still(rfb::BlockingClient& client, std::chrono::milliseconds quiet, std::chrono::milliseconds timeout,
                      int* updates = nullptr);

// Rectangles received in `encoding` so far.
std::uint64_t rects_of(rfb::BlockingClient& client, rfb::Encoding encoding);
// "tight=12 cursor=1 ..." for failure messages.
std::string stats_text(rfb::BlockingClient& client);

}  // namespace vncgate::test
