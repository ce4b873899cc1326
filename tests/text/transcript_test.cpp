// SPDX-License-Identifier: Apache-2.0
// TranscriptWriter → TranscriptReader round trips on screens drawn with an installed console font, the
// Transcriber's segments, and malformed transcripts.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "framebuffer/test_frames.hpp"
#include "record/transcriber.hpp"
#include "support/process.hpp"
#include "text/font_files.hpp"
#include "text/grid_finder.hpp"
#include "text/text_screen.hpp"
#include "text/transcript_reader.hpp"
#include "text/transcript_writer.hpp"
#include "util/error.hpp"

namespace vncgate::text {
namespace {

using framebuffer::PixelBuffer;
using framebuffer::test::blend;

// Draws `line` at text row `row` of a 640x400 console in Lat15-Fixed16, grey on black.
void draw(PixelBuffer& fb, int row, const std::string& line) {
  static const Font font = load_font_file("/usr/share/consolefonts/Lat15-Fixed16.psf.gz").at(0);
  for (int col = 0; col < static_cast<int>(line.size()); ++col) {
    const Glyph* glyph = nullptr;
    for (const auto& g : font.glyphs)
      if (g.code == static_cast<char32_t>(line[col])) glyph = &g;
    ASSERT_NE(glyph, nullptr) << line[col];
    for (int y = 0; y < font.height; ++y)
      for (int x = 0; x < font.width; ++x)
        fb.row(row * font.height + y)[col * font.width + x] =
            (glyph->rows[y] >> x) & 1 ? framebuffer::make_pixel(170, 170, 170) : framebuffer::make_pixel(0, 0, 0);
  }
}

PixelBuffer console(const std::vector<std::string>& lines) {
  PixelBuffer fb(640, 400);
  for (std::size_t r = 0; r < lines.size(); ++r) draw(fb, static_cast<int>(r), lines[r]);
  return fb;
}

const std::vector<std::string> kBoot = {"Debian GNU/Linux 12 vm-0001 tty1", "", "vm-0001 login: root",
                                        "Password:", "root@vm-0001:~# uptime"};

// A console that scrolled: the rows that moved are taken from where they were in the previous picture, only
// the new ones are read, and the text is what a fresh reading of the new picture gives.
TEST(TextScreenScroll, MovedRowsAreTakenFromTheirOldPlace_NewRowsRead) {
  std::vector<std::string> lines;
  for (int i = 0; i < 30; ++i)
    lines.push_back("line " + std::to_string(i) + " of the boot log, pid " + std::to_string(i * 37));
  const auto window = [&](int first) {
    return console(std::vector<std::string>(lines.begin() + first, lines.begin() + first + 25));
  };
  auto before = window(0);
  TextScreen s;
  s.update(before);
  ASSERT_TRUE(s.is_text());
  for (int first = 1; first <= 5; ++first) {
    auto now = window(first);
    if (first == 3) draw(now, 10, "a row that changed while it moved");
    const auto read = s.cells_read();
    const auto changed = s.update(now, before);
    TextScreen fresh;
    fresh.update(now);
    EXPECT_EQ(s.lines(), fresh.lines()) << "scroll to " << first;
    EXPECT_EQ(s.glyph_cells(), fresh.glyph_cells());
    EXPECT_EQ(changed.size(), 25u);
    // The changed row is new at 3, and the line it covered comes back from below at 4: two rows read then.
    const int new_rows = first == 3 || first == 4 ? 2 : 1;
    EXPECT_LE(s.cells_read() - read, new_rows * s.columns()) << "rows that only moved were read again at " << first;
    before = now;
  }
  // Without the previous picture every damaged cell is read; with one of another size, every changed cell.
  const auto read = s.cells_read();
  s.update(window(0), framebuffer::Damage(before.bounds()));
  EXPECT_EQ(s.cells_read() - read, s.columns() * s.rows());
  const PixelBuffer other(320, 200);
  const auto read2 = s.cells_read();
  s.update(window(1), other);
  EXPECT_GT(s.cells_read() - read2, 20 * s.columns());
  TextScreen fresh;
  fresh.update(window(1));
  EXPECT_EQ(s.lines(), fresh.lines());
}

// The same console with its glyphs' edges blended into the background, as an anti-aliased terminal draws
// them: no grid (cells of three and more colours never read), and rejected before any candidate is tried —
// a screen whose edges are gradients costs a scan, not thousands of cell reads, at every frame it changes.
TEST(GridFinder, AntiAliasedTextIsRejectedBeforeAnyCandidate) {
  std::vector<std::string> lines;
  for (int i = 0; i < 25; ++i) lines.push_back("drwxr-xr-x 2 root root 4096 Dec  6 01:2" + std::to_string(i % 10));
  const auto sharp = console(lines);
  const auto blended = blend(sharp);
  const auto library = GlyphLibrary::installed();
  long long sharp_reads = 0, blended_reads = 0;
  ASSERT_TRUE(find_grid(sharp, *library, &sharp_reads).has_value());  // the same text, sharp, still reads
  EXPECT_GT(sharp_reads, 100);
  EXPECT_FALSE(find_grid(blended, *library, &blended_reads).has_value());
  EXPECT_EQ(blended_reads, 0);
  TextScreen s(library);
  s.update(blended);
  EXPECT_FALSE(s.is_text());
  EXPECT_EQ(s.rows(), 0);
}

// A cleared anti-aliased terminal on a desktop: a white screen with the window's 1-pixel border on the right
// and at the bottom, a block cursor and a blended prompt. Its edges are two-coloured (the border, the cursor),
// and under many grids the border reads as a column of ▏ and the cursor as █: not text, since nothing on it
// reads as a letter, digit or sign (it was, with 88 lines of ▏, in an xterm's transcript).
TEST(GridFinder, OnlyFrameLinesAndBlocksAreNotText) {
  PixelBuffer fb(1280, 800);
  const auto white = framebuffer::make_pixel(255, 255, 255), black = framebuffer::make_pixel(0, 0, 0);
  for (int y = 0; y < fb.height(); ++y)
    for (int x = 0; x < fb.width(); ++x) fb.row(y)[x] = x == 1279 || y == 797 ? black : white;
  for (int y = 2; y < 15; ++y)
    for (int x = 200; x < 207; ++x) fb.row(y)[x] = black;
  // Text, dark on white: console() draws grey (170) on black, so ink g becomes 255 - g * 3 / 2.
  const auto put_text = [&fb](const PixelBuffer& drawn, int rows) {
    for (int y = 0; y < 16 * rows; ++y)
      for (int x = 0; x < drawn.width(); ++x) {
        const int g = static_cast<int>(drawn.row(y)[x] & 0xff);
        const auto v = static_cast<std::uint8_t>(255 - g * 3 / 2);
        fb.row(y)[x] = framebuffer::make_pixel(v, v, v);
      }
  };
  put_text(blend(console({"operator@console:~$ "})), 1);
  const auto library = GlyphLibrary::installed();
  EXPECT_FALSE(find_grid(fb, *library, nullptr).has_value());
  // The same border and cursor beside a sharp listing: the font's grid, not one that reads the border.
  std::vector<std::string> listing;
  for (int i = 0; i < 25; ++i) listing.push_back("drwxr-xr-x 2 root root 4096 Dec  6 01:2" + std::to_string(i % 10));
  put_text(console(listing), 25);
  const auto grid = find_grid(fb, *library, nullptr);
  ASSERT_TRUE(grid.has_value());
  EXPECT_EQ(grid->cell_width(), 8);
  EXPECT_EQ(grid->cell_height(), 16);
  EXPECT_EQ(grid->x, 0);
  EXPECT_EQ(grid->y, 0);
}

// A screen that is not text (an anti-aliased terminal scrolling) is searched again as it changes, each search
// rejected before reading a cell; once it turns to text, that is found at the next frame.
TEST(TextScreenSearch, AScreenThatTurnsToTextIsReadAtOnce) {
  std::vector<std::string> a, b;
  for (int i = 0; i < 25; ++i) {  // b is a scrolled by a row: every row's ink moves
    a.push_back(std::string(40, static_cast<char>('a' + i)));
    b.push_back(std::string(40, static_cast<char>('a' + i + 1)));
  }
  const PixelBuffer frames[] = {blend(console(a)), blend(console(b))};
  TextScreen s;
  s.update(frames[0]);
  for (int i = 1; i <= 10; ++i) s.update(frames[i % 2], frames[(i + 1) % 2]);
  EXPECT_FALSE(s.is_text());
  EXPECT_EQ(s.grid_searches(), 11);
  EXPECT_EQ(s.cells_read(), 0);
  const auto text = console(a);
  s.update(text, frames[0]);
  ASSERT_TRUE(s.is_text());
  EXPECT_EQ(s.line(0), a[0]);
  // A small change to a screen without a grid is not searched again.
  TextScreen desktop;
  desktop.update(frames[0]);
  auto nudged = frames[0];
  nudged.row(10)[10] ^= 0xffffff;
  desktop.update(nudged, frames[0]);
  EXPECT_EQ(desktop.grid_searches(), 1);
}

TEST(Transcript, RowsChangedAreReadBackAtTheirTimes) {
  std::ostringstream out;
  TranscriptWriter writer(out);
  auto fb = console(kBoot);
  writer.frame(0, fb, framebuffer::Damage(fb.bounds()));
  draw(fb, 5, "06:25:01 up 3 min");
  writer.frame(1500, fb, framebuffer::Damage({0, 80, 640, 16}));
  writer.finish(2000);

  std::istringstream in(out.str());
  const auto lines = TranscriptReader::appeared(in);
  ASSERT_EQ(lines.size(), 5u);  // four non-blank rows of the keyframe, then the new one
  EXPECT_EQ(lines[0].text, kBoot[0]);
  EXPECT_EQ(lines[0].t, 0.0);
  EXPECT_EQ(lines[4].text, "06:25:01 up 3 min");
  EXPECT_EQ(lines[4].row, 5);
  EXPECT_EQ(lines[4].t, 1.5);
}

// Segments: each transcript starts with the screen carried over, at t=0, and times count from its start.
TEST(Transcript, TranscriberWritesOneSelfContainedFilePerSegment) {
  test::TempDir dir("vncgate-transcriber");
  const auto one = dir.file("segment-001.transcript.jsonl"), two = dir.file("segment-002.transcript.jsonl");
  {
    record::Transcriber transcriber;
    auto fb = console(kBoot);
    transcriber.begin(one, 0);
    transcriber.frame(fb, 100);
    draw(fb, 6, "first");
    transcriber.frame(fb, 2500);
    EXPECT_TRUE(transcriber.end(4000));
    transcriber.begin(two, 4000);
    transcriber.frame(fb, 4000);  // the held screen opens the next segment
    draw(fb, 7, "second");
    transcriber.frame(fb, 5250);
    EXPECT_TRUE(transcriber.end(8000));
  }
  std::ifstream a(one), b(two);
  const auto first = TranscriptReader::appeared(a);
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(first.back().text, "first");
  // Times from the segment's start. The frame at 100 ms may have been replaced by the one at 2500 ms while the
  // reader was still loading its fonts (newest wins): either way "first" appeared at 2.5 s.
  EXPECT_TRUE(first.front().t == 0.1 || first.front().t == 2.5) << first.front().t;
  EXPECT_EQ(first.back().t, 2.5);
  const auto second = TranscriptReader::appeared(b);
  ASSERT_EQ(second.size(), 6u);  // the carried-over screen (5 non-blank rows), then "second"
  EXPECT_EQ(second[4].text, "first");
  EXPECT_EQ(second[4].t, 0.0);
  EXPECT_EQ(second[5].text, "second");
  EXPECT_EQ(second[5].t, 1.25);
}

TEST(Transcript, AnUnwritableTranscriptIsReportedNotThrown) {
  record::Transcriber transcriber;
  transcriber.begin("/nonexistent-dir/t.jsonl", 0);
  transcriber.frame(console(kBoot), 0);
  EXPECT_FALSE(transcriber.end(1000));
}

TEST(Transcript, MalformedLinesAreCodecErrors) {
  TranscriptReader reader;
  EXPECT_TRUE(reader.apply("").empty());
  EXPECT_THROW(reader.apply("not json"), CodecError);
  EXPECT_THROW(reader.apply(R"({"rows":{}})"), CodecError);               // no time
  EXPECT_THROW(reader.apply(R"({"t":-1,"rows":{}})"), CodecError);        // negative time
  EXPECT_THROW(reader.apply(R"({"t":1})"), CodecError);                   // neither key nor rows
  EXPECT_THROW(reader.apply(R"({"t":1,"rows":{"x":"a"}})"), CodecError);  // row not a number
  EXPECT_THROW(reader.apply(R"({"t":1,"rows":{"99999":"a"}})"), CodecError);
  EXPECT_THROW(reader.apply(R"({"t":1,"rows":{"1":5}})"), CodecError);
  EXPECT_THROW(reader.apply(R"({"t":1,"key":"yes"})"), CodecError);
  EXPECT_THROW(reader.apply(R"({"t":1,"key":true,"text":true,"lines":[1]})"), CodecError);
  EXPECT_THROW(reader.apply(std::string(TranscriptReader::kMaxLineBytes + 1, ' ')), CodecError);
  // A repeated keyframe reports nothing; a non-text one clears the screen.
  EXPECT_EQ(reader.apply(R"({"t":1,"key":true,"text":true,"lines":["a","b"]})").size(), 2u);
  EXPECT_TRUE(reader.apply(R"({"t":2,"key":true,"text":true,"lines":["a","b"]})").empty());
  EXPECT_EQ(reader.apply(R"({"t":3,"key":true,"text":false})").size(), 2u);
  EXPECT_TRUE(reader.screen().empty());
}

}  // namespace
}  // namespace vncgate::text
