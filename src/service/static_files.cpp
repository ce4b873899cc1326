// SPDX-License-Identifier: Apache-2.0
#include "service/static_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <utility>

namespace vncgate::service {

namespace {

namespace fs = std::filesystem;

// Web roots hold pages and scripts; anything bigger is not ours to serve from memory.
constexpr std::uintmax_t kMaxFileBytes = 32u << 20;

bool safe_segment(std::string_view segment) {
  if (segment.empty() || segment == "." || segment == "..") return false;
  for (const char c : segment) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '\\') return false;
  }
  return true;
}

// The path below the root ("static/console.js"), or nullopt when a segment could step elsewhere.
std::optional<std::string> relative_path(std::string_view url_path) {
  if (!url_path.empty() && url_path.front() == '/') url_path.remove_prefix(1);
  if (url_path.empty()) return std::nullopt;
  std::size_t start = 0;
  for (;;) {
    const std::size_t slash = url_path.find('/', start);
    const std::string_view segment =
        url_path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (!safe_segment(segment)) return std::nullopt;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return std::string(url_path);
}

// Size and nanosecond modification time: changes whenever the build copies a new file.
std::string etag_for(const struct stat& st) {
  std::array<char, 64> text{};
  const auto mtime_ns = static_cast<unsigned long long>(st.st_mtim.tv_sec) * 1000000000ull +
                        static_cast<unsigned long long>(st.st_mtim.tv_nsec);
  std::snprintf(text.data(), text.size(), "\"%llx-%llx\"", static_cast<unsigned long long>(st.st_size), mtime_ns);
  return text.data();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// If-None-Match: "*" or a comma-separated list; weak comparison (RFC 9110 §13.1.2), so W/"x" matches "x".
bool none_match_hits(std::string_view header, std::string_view etag) {
  std::size_t start = 0;
  while (start <= header.size()) {
    const std::size_t comma = header.find(',', start);
    std::string_view tag =
        trim(header.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (tag == "*") return true;
    if (tag.substr(0, 2) == "W/") tag.remove_prefix(2);
    if (tag == etag) return true;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return false;
}

}  // namespace

std::string content_type_for(std::string_view file_name) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".json", "application/json"},
      {".wasm", "application/wasm"},
      {".yaml", "application/yaml"},
      {".txt", "text/plain; charset=utf-8"},
  };
  const std::size_t dot = file_name.rfind('.');
  const std::size_t slash = file_name.rfind('/');
  if (dot != std::string_view::npos && (slash == std::string_view::npos || dot > slash)) {
    const std::string_view ext = file_name.substr(dot);
    for (const auto& [known, type] : kTypes) {
      if (ext.size() == known.size() && std::equal(ext.begin(), ext.end(), known.begin(), [](char a, char b) {
            return (a >= 'A' && a <= 'Z' ? a - 'A' + 'a' : a) == b;
          })) {
        return std::string(type);
      }
    }
  }
  return "application/octet-stream";
}

std::optional<HttpResponse> serve_static(const std::string& web_root, const std::string& url_path,
                                         const HttpRequest& request) {
  if (url_path.find('\0') != std::string::npos || url_path.substr(0, 2) == "//") {
    return json_error(400, "bad_path", "malformed file path");
  }
  const auto relative = relative_path(url_path);
  if (!relative) return json_error(400, "bad_path", "malformed file path");

  // Resolve symlinks on both sides, then require the file to stay below the root.
  std::error_code ec;
  const fs::path root = fs::canonical(web_root, ec);
  if (ec) return std::nullopt;
  const fs::path file = fs::canonical(root / *relative, ec);
  if (ec) return std::nullopt;
  const std::string root_text = root.string();
  const std::string file_text = file.string();
  if (file_text.size() <= root_text.size() || file_text.compare(0, root_text.size(), root_text) != 0 ||
      (root_text.back() != '/' && file_text[root_text.size()] != '/')) {
    return std::nullopt;
  }

  // Size, type and content from one open file, so the ETag describes exactly the bytes sent.
  const int fd = ::open(file_text.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  if (static_cast<std::uintmax_t>(st.st_size) > kMaxFileBytes) return std::nullopt;

  HttpResponse response;
  response.content_type = content_type_for(file_text);
  const std::string etag = etag_for(st);
  response.headers = {{"ETag", etag}, {"Cache-Control", "no-cache"}, {"X-Content-Type-Options", "nosniff"}};
  if (const auto inm = request.header("If-None-Match"); inm && none_match_hits(*inm, etag)) {
    response.status = 304;
    return response;
  }
  response.body.resize(static_cast<std::size_t>(st.st_size));
  std::size_t done = 0;
  while (done < response.body.size()) {
    const ssize_t n = ::read(fd, response.body.data() + done, response.body.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  response.body.resize(done);  // a file truncated meanwhile: send what it now holds
  return response;
}

}  // namespace vncgate::service
