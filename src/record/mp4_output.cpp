// SPDX-License-Identifier: Apache-2.0
#include "record/mp4_output.hpp"

#include "util/error.hpp"

namespace vncgate::record {

void check_av(int rc, const std::string& what) {
  if (rc >= 0) return;
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(rc, text, sizeof text);
  throw CodecError(what + ": " + text);
}

void start_fragmented_mp4(AVFormatContext* format, const std::string& path) {
  check_av(avio_open(&format->pb, path.c_str(), AVIO_FLAG_WRITE), "cannot create " + path);
  AVDictionary* mux_options = nullptr;
  av_dict_set(&mux_options, "movflags", "empty_moov+default_base_moof+separate_moof", 0);
  av_dict_set(&mux_options, "frag_duration", "1", 0);
  av_dict_set(&mux_options, "flush_packets", "1", 0);
  const int rc = avformat_write_header(format, &mux_options);
  av_dict_free(&mux_options);
  check_av(rc, "cannot write the MP4 header of " + path);
}

}  // namespace vncgate::record
