// SPDX-License-Identifier: Apache-2.0
#include "record/sidecar.hpp"

#include <openssl/evp.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "util/error.hpp"

namespace vncgate::record {

std::string utc_iso8601(std::int64_t unix_ms) {
  const std::time_t seconds = unix_ms / 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[96];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(unix_ms % 1000));
  return text;
}

namespace {

// As ffmpeg names the encoded picture's format.
const char* pixel_format(const EncoderSettings& enc) {
  if (enc.lossless) return "bgr0";
  return enc.chroma == Chroma::yuv444 ? "yuv444p" : "yuv420p";
}

}  // namespace

std::string to_json(const SegmentRecord& r) {
  nlohmann::json events = nlohmann::json::array();
  for (const auto& e : r.events)
    events.push_back({{"t", (e.t_ms - r.start_ms) / 1000.0}, {"kind", e.kind}, {"detail", e.detail}});
  const auto& enc = r.encoder;
  nlohmann::json doc = {
      {"target", r.target},
      {"segment", r.index},
      {"count", r.count},
      {"file", r.file},
      {"start", utc_iso8601(r.start_unix_ms + r.start_ms)},
      {"end", utc_iso8601(r.start_unix_ms + r.end_ms)},
      {"offset_s", r.start_ms / 1000.0},
      {"duration_s", (r.end_ms - r.start_ms) / 1000.0},
      {"frames", r.stats.frames},
      {"bytes", r.stats.bytes},
      {"width", r.width},
      {"height", r.height},
      {"sha256", r.sha256},
      {"codec",
       {{"encoder", enc.lossless ? "libx264rgb" : "libx264"},
        {"preset", enc.preset},
        {"tune", enc.tune},
        // The rate control actually used: a constant quantizer replaces CRF, lossless is qp 0.
        {"crf", enc.lossless || enc.qp >= 0 ? nlohmann::json(nullptr) : nlohmann::json(enc.crf)},
        {"qp", enc.lossless  ? nlohmann::json(0)
               : enc.qp >= 0 ? nlohmann::json(enc.qp)
                             : nlohmann::json(nullptr)},
        {"lossless", enc.lossless},
        {"pixel_format", pixel_format(enc)},
        {"fps_cap", enc.fps}}},
      {"events", events},
  };
  if (!r.transcript.empty()) doc["transcript"] = r.transcript;
  if (!r.fbs.empty()) {
    auto& places = doc["fbs"] = nlohmann::json::array();
    for (const auto& f : r.fbs) places.push_back({{"file", f.file}, {"offset_s", f.offset_ms / 1000.0}});
  }
  return doc.dump(2) + "\n";
}

std::optional<FbsInstant> fbs_instant_at(const std::vector<FbsPlace>& places, std::int64_t segment_ms) {
  std::optional<FbsInstant> found;
  for (const auto& place : places) {
    const auto ms = place.offset_ms + segment_ms;
    if (ms < 0 || ms > UINT32_MAX) continue;
    found = FbsInstant{place.file, static_cast<std::uint32_t>(ms)};
  }
  return found;
}

std::vector<FbsPlace> fbs_places_of(const std::string& sidecar_json) {
  std::vector<FbsPlace> places;
  const auto doc = nlohmann::json::parse(sidecar_json, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("fbs") || !doc["fbs"].is_array()) return places;
  for (const auto& f : doc["fbs"]) {
    if (!f.is_object() || !f.contains("file") || !f["file"].is_string() || !f.contains("offset_s") ||
        !f["offset_s"].is_number())
      return {};
    const double offset_s = f["offset_s"];
    if (!(offset_s > -86400.0 * 366 && offset_s < 86400.0 * 366)) return {};
    places.push_back({f["file"], static_cast<std::int64_t>(std::llround(offset_s * 1000))});
  }
  return places;
}

std::string sha256_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot read " + path);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  std::vector<char> buffer(1 << 16);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    EVP_DigestUpdate(ctx.get(), buffer.data(), static_cast<std::size_t>(in.gcount()));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &length);
  std::string hex;
  char byte[3];
  for (unsigned i = 0; i < length; ++i) {
    std::snprintf(byte, sizeof byte, "%02x", digest[i]);
    hex += byte;
  }
  return hex;
}

void write_file_atomic(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) throw IoError("cannot write " + temporary);
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  if (ec) throw IoError("cannot rename " + temporary + " to " + path + ": " + ec.message());
}

}  // namespace vncgate::record
