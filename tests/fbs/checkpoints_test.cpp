// SPDX-License-Identifier: Apache-2.0
#include "fbs/checkpoints.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "fbs/fbs_test_util.hpp"
#include "fbs/reader.hpp"
#include "fbs/replay.hpp"
#include "fbs/writer.hpp"
#include "rfb/client_connection.hpp"
#include "util/byte_cursor.hpp"

namespace vncgate::fbs {
namespace {

using namespace test;
using framebuffer::PixelBuffer;
using framebuffer::Rect;

std::vector<Captured> replay(const std::string& path, std::uint32_t from, const ReplayOptions& options,
                             ReplayResult* result = nullptr, std::size_t max_frames = SIZE_MAX) {
  return replay_frames(Reader::open(path), from, result, options, max_frames);
}

bool same_pixels(const PixelBuffer& a, const PixelBuffer& b) {
  return a.width() == b.width() && a.height() == b.height() &&
         std::equal(a.pixels().begin(), a.pixels().end(), b.pixels().begin());
}

// A deflate stream that persists across rectangles and ends each chunk with a sync flush, as VNC servers'
// ZRLE and Tight streams do: later chunks refer back into the output of earlier ones (our own encoders restart
// their streams for shared encodings, so they would not test that the dictionaries survive a checkpoint).
class PersistentDeflate {
 public:
  PersistentDeflate() { deflateInit(&z_, 6); }
  ~PersistentDeflate() { deflateEnd(&z_); }
  std::vector<std::uint8_t> chunk(std::vector<std::uint8_t> data) {
    std::vector<std::uint8_t> out(deflateBound(&z_, static_cast<uLong>(data.size())) + 64);
    z_.next_in = data.data();
    z_.avail_in = static_cast<uInt>(data.size());
    z_.next_out = out.data();
    z_.avail_out = static_cast<uInt>(out.size());
    deflate(&z_, Z_SYNC_FLUSH);
    out.resize(out.size() - z_.avail_out);
    return out;
  }

 private:
  z_stream z_{};
};

// One FramebufferUpdate with a single rectangle `r` of `pixels` (R,G,B bytes) in ZRLE (raw tiles, 3-byte
// CPIXELs) or Tight (basic compression, stream 0, copy filter, TPIXELs), its zlib data continuing `stream`.
std::vector<std::uint8_t> zlib_update(rfb::Encoding encoding, const Rect& r, const std::vector<std::uint8_t>& rgb,
                                      PersistentDeflate& stream) {
  auto rgb_of = [&](int x, int y) { return rgb.data() + (static_cast<std::size_t>(y) * r.w + x) * 3; };
  std::vector<std::uint8_t> data;
  if (encoding == rfb::Encoding::zrle) {
    for (int ty = 0; ty < r.h; ty += 64)
      for (int tx = 0; tx < r.w; tx += 64) {
        data.push_back(0);  // raw tile
        for (int y = ty; y < std::min(ty + 64, r.h); ++y)
          for (int x = tx; x < std::min(tx + 64, r.w); ++x) {
            const auto* p = rgb_of(x, y);
            data.insert(data.end(), {p[2], p[1], p[0]});  // CPIXEL: the pixel's low three bytes, little endian
          }
      }
  } else {
    data = rgb;
  }
  const auto compressed = stream.chunk(std::move(data));
  Wire w;
  w.u8(0).u8(0).u16(1).u16(r.x).u16(r.y).u16(r.w).u16(r.h).u32(static_cast<std::uint32_t>(encoding));
  if (encoding == rfb::Encoding::zrle) {
    w.u32(static_cast<std::uint32_t>(compressed.size()));
  } else {
    w.u8(0x00);                  // stream 0, no explicit filter: copy
    auto n = compressed.size();  // compact length: 7 bits a byte, at most three bytes
    w.u8((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    if (n > 0x7f) w.u8(((n >> 7) & 0x7f) | (n > 0x3fff ? 0x80 : 0));
    if (n > 0x3fff) w.u8(n >> 14);
  }
  w.bytes.insert(w.bytes.end(), compressed.begin(), compressed.end());
  return w.bytes;
}

// A console session in `encoding` recorded through ClientConnection's tap: a full screen, then 60 s of
// text-like rows changing once a second, whose glyphs repeat those of earlier updates (so their compressed
// data refers back across updates, into what a checkpoint must carry).
void record_session(const std::string& path, rfb::Encoding encoding, std::uint32_t seed) {
  const int width = 160, height = 96;
  rfb::ClientOptions options;
  options.encodings = {encoding};
  rfb::ClientConnection client(options);
  client.feed(hello_38_none(width, height).bytes);
  std::uint32_t now = 50;
  Writer writer(path, client.server_init(), client.converter().format());
  client.set_tap(writer.tap_for(client, [&] { return now; }));
  PersistentDeflate stream;
  auto glyphs = [&](const Rect& r, int step) {
    std::vector<std::uint8_t> rgb;
    for (int y = r.y; y < r.bottom(); ++y)
      for (int x = r.x; x < r.right(); ++x) {
        const std::uint32_t cell = (x / 8 + step + seed) % 23;
        const bool ink = ((cell * 2654435761u) >> ((y % 8) * 3 + (x % 8))) & 1;
        rgb.insert(rgb.end(), {static_cast<std::uint8_t>(ink ? 220 : 0), static_cast<std::uint8_t>(ink ? 220 : 0),
                               static_cast<std::uint8_t>(ink ? 200 : 60)});
      }
    return rgb;
  };
  const Rect screen{0, 0, width, 64};
  client.feed(zlib_update(encoding, screen, glyphs(screen, 0), stream));
  client.feed(zlib_update(encoding, {0, 64, width, 32}, glyphs({0, 64, width, 32}, 0), stream));
  for (int step = 1; step < 60; ++step) {
    now = 1000 * step + 50;
    const Rect r{0, ((step * 7) % 12) * 8, width, 8};
    client.feed(zlib_update(encoding, r, glyphs(r, step), stream));
  }
  ASSERT_TRUE(client.frame_complete());
  writer.close();
}

ReplayOptions with_checkpoints(const std::string& path, bool build) {
  ReplayOptions o;
  o.checkpoints = checkpoints_path_for(path);
  o.build_checkpoints = build;
  o.checkpoint_every_ms = 5000;      // every 5 s of changing screen: a dozen in this session
  o.checkpoint_every_decode_ms = 0;  // the same places however fast the machine
  return o;
}

class Checkpoints : public testing::TestWithParam<rfb::Encoding> {
 protected:
  void SetUp() override {
    record_session(path_, GetParam(), 1);
    ReplayResult built;
    all_ = replay(path_, 0, with_checkpoints(path_, true), &built);
    ASSERT_TRUE(built.ok()) << built.decode_error << built.read.message;
    ASSERT_GE(all_.size(), 60u);  // the screen at 0 ms, then one frame per update
    added_ = built.checkpoints_added;
  }

  // The picture at `ms` as decoding from the start shows it.
  const PixelBuffer& truth_at(std::uint32_t ms) const {
    const Captured* at = &all_.front();
    for (const auto& f : all_)
      if (f.ms <= ms) at = &f;
    return at->pixels;
  }

  ScratchDir dir_;
  std::string path_ = dir_.file("console.fbs");
  std::vector<Captured> all_;
  std::uint64_t added_ = 0;
};

TEST_P(Checkpoints, EveryInstantFromACheckpointMatchesDecodingFromTheStart) {
  const auto list = list_checkpoints(checkpoints_path_for(path_));
  ASSERT_EQ(list.size(), added_);
  ASSERT_GE(list.size(), 10u);
  for (std::uint32_t t = 0; t < 61000; t += 700) {
    ReplayResult resumed;
    const auto frames = replay(path_, t, with_checkpoints(path_, false), &resumed, 1);
    ASSERT_EQ(frames.size(), 1u) << t;
    EXPECT_EQ(frames[0].ms, std::min<std::uint32_t>(t, all_.back().ms)) << t;
    EXPECT_TRUE(same_pixels(frames[0].pixels, truth_at(t))) << "at " << t << " ms";
    const auto before = checkpoint_before(list, t);
    EXPECT_EQ(resumed.resumed_at_ms, before ? std::optional(before->ms) : std::nullopt) << t;
  }
}

TEST_P(Checkpoints, TheRestOfTheRecordingPlaysTheSameFromACheckpoint) {
  for (std::uint32_t t : {12345u, 30001u, 58000u}) {
    ReplayResult resumed;
    const auto frames = replay(path_, t, with_checkpoints(path_, false), &resumed);
    ASSERT_TRUE(resumed.resumed_at_ms) << t;
    std::vector<const Captured*> expected;
    for (const auto& f : all_)
      if (f.ms > t) expected.push_back(&f);
    ASSERT_EQ(frames.size(), expected.size() + 1) << t;
    for (std::size_t i = 1; i < frames.size(); ++i) {
      EXPECT_EQ(frames[i].ms, expected[i - 1]->ms);
      EXPECT_EQ(frames[i].damage, expected[i - 1]->damage);
      EXPECT_TRUE(same_pixels(frames[i].pixels, expected[i - 1]->pixels)) << t << " frame " << i;
    }
    EXPECT_EQ(resumed.last_ms, all_.back().ms);
  }
}

TEST_P(Checkpoints, ASecondReplayAddsNothingAndWithoutTheSidecarNothingIsWritten) {
  ReplayResult again;
  replay(path_, 20000, with_checkpoints(path_, true), &again);
  EXPECT_EQ(again.checkpoints_added, 0u);
  EXPECT_EQ(list_checkpoints(checkpoints_path_for(path_)).size(), added_);
  const auto other = dir_.file("plain.fbs");
  std::filesystem::copy_file(path_, other);
  ReplayResult plain;
  replay(other, 20000, {}, &plain);
  EXPECT_FALSE(plain.resumed_at_ms);
  EXPECT_FALSE(std::filesystem::exists(checkpoints_path_for(other)));
}

// A sidecar next to another recording (here: the same session drawn differently) is not this file's: the
// block before each checkpoint differs, so the replay decodes from the start and shows the right picture.
TEST_P(Checkpoints, ASidecarOfAnotherRecordingIsNotUsed) {
  const auto other = dir_.file("other.fbs");
  record_session(other, GetParam(), 2);
  std::filesystem::copy_file(checkpoints_path_for(path_), checkpoints_path_for(other));
  const auto truth = replay(other, 0, {});
  ReplayResult result;
  const auto frames = replay(other, 40000, with_checkpoints(other, false), &result, 1);
  EXPECT_FALSE(result.resumed_at_ms);
  ASSERT_EQ(frames.size(), 1u);
  const Captured* at = nullptr;
  for (const auto& f : truth)
    if (f.ms <= 40000) at = &f;
  EXPECT_TRUE(same_pixels(frames[0].pixels, at->pixels));
}

// Damaged and hostile sidecars: a flipped byte (the record's CRC), a state rewritten with a valid CRC (the
// state's own checks), a torn last record. Each replay falls back or uses an earlier checkpoint, never crashes,
// and shows the picture decoding from the start shows.
TEST_P(Checkpoints, DamagedOrHostileStateFallsBackToDecoding) {
  const auto sidecar = checkpoints_path_for(path_);
  const auto list = list_checkpoints(sidecar);
  const auto target = list[list.size() / 2];
  const auto t = target.ms + 100;
  auto bytes = read_bytes(sidecar);
  auto write = [&](const std::vector<std::uint8_t>& b) {
    std::ofstream(sidecar, std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  };
  auto check = [&](const char* what) {
    ReplayResult result;
    const auto frames = replay(path_, t, with_checkpoints(path_, false), &result, 1);
    ASSERT_EQ(frames.size(), 1u) << what;
    EXPECT_NE(result.resumed_at_ms, std::optional(target.ms)) << what;
    EXPECT_TRUE(same_pixels(frames[0].pixels, truth_at(t))) << what;
  };
  auto flipped = bytes;
  flipped[target.position + target.length / 2] ^= 0x40;
  write(flipped);
  check("flipped byte");

  // Hostile: every byte of the state in turn set to 0xff, with the CRC made right again.
  for (std::size_t i = 0; i < std::min<std::uint32_t>(target.length, 400); i += 3) {
    auto hostile = bytes;
    hostile[target.position + i] = 0xff;
    const auto crc = crc32_of({hostile.data() + target.position, target.length});
    for (int k = 0; k < 4; ++k) hostile[target.position - 4 + k] = static_cast<std::uint8_t>(crc >> (24 - 8 * k));
    write(hostile);
    ReplayResult result;
    const auto frames = replay(path_, t, with_checkpoints(path_, false), &result, 1);
    ASSERT_EQ(frames.size(), 1u) << i;
    EXPECT_TRUE(same_pixels(frames[0].pixels, truth_at(t)) || result.resumed_at_ms == target.ms) << i;
  }

  // Torn: the sidecar cut inside the target's state. Checkpoints before it still serve; a replay that builds
  // cuts the torn record off and adds the rest again.
  std::vector<std::uint8_t> torn(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(target.position + 10));
  write(torn);
  EXPECT_EQ(list_checkpoints(sidecar).size(), list.size() / 2);
  check("torn");
  ReplayResult rebuilt;
  replay(path_, 0, with_checkpoints(path_, true), &rebuilt);
  EXPECT_EQ(list_checkpoints(sidecar).size(), list.size());
  EXPECT_EQ(rebuilt.checkpoints_added, list.size() - list.size() / 2);
}

TEST_P(Checkpoints, OneAppenderAtATime) {
  const auto sidecar = dir_.file("locked.ckpt");
  CheckpointAppender first(sidecar);
  CheckpointAppender second(sidecar);
  EXPECT_TRUE(first.active());
  EXPECT_FALSE(second.active());
  const std::vector<std::uint8_t> state{1, 2, 3};
  first.append({1000, 500, 100, 0}, state);
  first.append({900, 600, 500, 0}, state);   // earlier than the last: refused
  first.append({2000, 500, 100, 0}, state);  // not beyond the last offset: refused
  ASSERT_EQ(list_checkpoints(sidecar).size(), 1u);
  EXPECT_EQ(load_checkpoint(sidecar, list_checkpoints(sidecar)[0]), state);
}

INSTANTIATE_TEST_SUITE_P(Encodings, Checkpoints, testing::Values(rfb::Encoding::tight, rfb::Encoding::zrle),
                         [](const auto& info) { return rfb::encoding_name(static_cast<std::int32_t>(info.param)); });

TEST(ClientCheckpoint, OnlyBetweenMessagesOfACompletelyPaintedScreen) {
  rfb::ClientConnection conn(rfb::ClientOptions{});
  EXPECT_FALSE(conn.save_checkpoint());  // before ServerInit
  conn.feed(hello_38_none(8, 4).bytes);
  EXPECT_FALSE(conn.save_checkpoint());  // nothing painted yet
  const auto update = raw_update({0, 0, 8, 4}, 0x123456);
  conn.feed(std::span(update).first(20));
  EXPECT_FALSE(conn.save_checkpoint());  // inside the update
  conn.feed(std::span(update).subspan(20));
  const auto saved = conn.save_checkpoint();
  ASSERT_TRUE(saved);
  rfb::ClientConnection copy(rfb::ClientOptions{});
  copy.restore_checkpoint(*saved);
  EXPECT_TRUE(copy.ready());
  EXPECT_TRUE(copy.frame_complete());
  EXPECT_EQ(copy.server_init().name, "guest");
  EXPECT_TRUE(same_pixels(copy.framebuffer(), conn.framebuffer()));
  EXPECT_THROW(copy.restore_checkpoint(*saved), std::logic_error);  // only into a fresh connection
  // Every strict prefix is refused with a ProtocolError, and the connection stays unfed.
  for (std::size_t n = 0; n < saved->size(); n += 7) {
    rfb::ClientConnection c(rfb::ClientOptions{});
    EXPECT_THROW(c.restore_checkpoint(std::span(*saved).first(n)), ProtocolError) << n;
    EXPECT_FALSE(c.ready());
  }
  // A screen larger than the connection allows is refused like a ServerInit would be.
  rfb::ClientOptions small;
  small.max_pixels = 16;
  rfb::ClientConnection limited(small);
  EXPECT_THROW(limited.restore_checkpoint(*saved), ProtocolError);
}

}  // namespace
}  // namespace vncgate::fbs
