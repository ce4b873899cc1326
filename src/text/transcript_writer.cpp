// SPDX-License-Identifier: Apache-2.0
#include "text/transcript_writer.hpp"

#include <nlohmann/json.hpp>

namespace vncgate::text {
namespace {

double seconds(std::uint32_t ms) { return ms / 1000.0; }

}  // namespace

TranscriptWriter::TranscriptWriter(std::ostream& out, TranscriptOptions options,
                                   std::shared_ptr<const GlyphLibrary> library)
    : out_(&out), options_(options), screen_(std::move(library)) {}

void TranscriptWriter::keyframe(std::uint32_t ms) {
  nlohmann::ordered_json j{{"t", seconds(ms)}, {"key", true}, {"text", screen_.is_text()}};
  if (screen_.is_text()) {
    j["columns"] = screen_.columns();
    j["rows"] = screen_.rows();
    j["lines"] = screen_.lines();
  }
  *out_ << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  ++lines_;
  last_key_ms_ = ms;
  was_text_ = screen_.is_text();
  dirty_since_key_ = false;
}

void TranscriptWriter::rows(std::uint32_t ms, const std::vector<int>& changed) {
  nlohmann::ordered_json rows = nlohmann::ordered_json::object();
  for (int r : changed) rows[std::to_string(r)] = screen_.line(r);
  *out_ << nlohmann::ordered_json{{"t", seconds(ms)}, {"rows", rows}}.dump(-1, ' ', false,
                                                                           nlohmann::json::error_handler_t::replace)
        << '\n';
  ++lines_;
  dirty_since_key_ = true;
}

void TranscriptWriter::frame(std::uint32_t ms, const framebuffer::PixelBuffer& fb, const framebuffer::Damage& damage) {
  const int old_rows = screen_.rows(), old_columns = screen_.columns();
  read(ms, screen_.update(fb, damage), old_rows, old_columns);
}

void TranscriptWriter::frame(std::uint32_t ms, const framebuffer::PixelBuffer& fb,
                             const framebuffer::PixelBuffer& before) {
  const int old_rows = screen_.rows(), old_columns = screen_.columns();
  read(ms, screen_.update(fb, before), old_rows, old_columns);
}

// What one frame's reading changed, written: a keyframe when the screen's shape or kind changed or one is due.
void TranscriptWriter::read(std::uint32_t ms, const std::vector<int>& changed, int old_rows, int old_columns) {
  const bool reshaped = screen_.rows() != old_rows || screen_.columns() != old_columns;
  if (!started_ || reshaped || screen_.is_text() != was_text_) {
    started_ = true;
    keyframe(ms);
    return;
  }
  if (changed.empty() || !screen_.is_text()) return;
  if (ms - last_key_ms_ >= options_.keyframe_interval_ms)
    keyframe(ms);
  else
    rows(ms, changed);
}

void TranscriptWriter::finish(std::uint32_t ms) {
  if (started_ && dirty_since_key_) keyframe(ms);
  out_->flush();
}

void TranscriptWriter::restart(std::ostream& out) {
  out_ = &out;
  if (started_) keyframe(0);
}

}  // namespace vncgate::text
