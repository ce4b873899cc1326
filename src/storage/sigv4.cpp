// SPDX-License-Identifier: Apache-2.0
#include "storage/sigv4.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <stdexcept>

#include "http/http_client.hpp"

namespace vncgate::storage::sigv4 {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

std::string hex(const unsigned char* data, std::size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(kHex[data[i] >> 4]);
    out.push_back(kHex[data[i] & 0xF]);
  }
  return out;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Trims the value and collapses runs of spaces into one (the SigV4 "Trimall" rule).
std::string trim_all(std::string_view value) {
  std::string out;
  bool pending_space = false;
  for (const char c : value) {
    if (c == ' ' || c == '\t') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

// Canonical query: every name and value encoded (slashes too), sorted by encoded name, then by value.
std::string canonical_query(const Pairs& query) {
  Pairs encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) encoded.emplace_back(uri_encode(name, true), uri_encode(value, true));
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out.push_back('&');
    out += name + "=" + value;
  }
  return out;
}

struct CanonicalHeaders {
  std::string lines;  // "name:value\n" per header
  std::string signed_names;
};

CanonicalHeaders canonical_headers(const Pairs& headers) {
  // stable_sort keeps duplicates in the order they were given, which is the order their values are joined.
  Pairs sorted;
  for (const auto& [name, value] : headers) sorted.emplace_back(lower(name), trim_all(value));
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  CanonicalHeaders out;
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    if (i > 0 && sorted[i].first == sorted[i - 1].first) {
      out.lines.pop_back();  // the '\n' of the previous line with the same name
      out.lines += "," + sorted[i].second + "\n";
      continue;
    }
    out.lines += sorted[i].first + ":" + sorted[i].second + "\n";
    if (!out.signed_names.empty()) out.signed_names.push_back(';');
    out.signed_names += sorted[i].first;
  }
  return out;
}

std::string credential_scope(std::string_view date, const Scope& scope) {
  return std::string(date.substr(0, 8)) + "/" + scope.region + "/" + scope.service + "/aws4_request";
}

std::string signing_key(const Credentials& credentials, std::string_view date, const Scope& scope) {
  std::string key = hmac_sha256("AWS4" + credentials.secret_key, date.substr(0, 8));
  key = hmac_sha256(key, scope.region);
  key = hmac_sha256(key, scope.service);
  return hmac_sha256(key, "aws4_request");
}

void check_date(std::string_view date) {
  if (date.size() != 16 || date[8] != 'T' || date[15] != 'Z')
    throw std::invalid_argument("SigV4 date must look like 20150830T123600Z");
}

}  // namespace

std::string sha256_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 failed");
  return hex(digest, size);
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
           data.size(), digest, &size) == nullptr)
    throw std::runtime_error("HMAC-SHA256 failed");
  return std::string(reinterpret_cast<const char*>(digest), size);
}

std::string amz_date(std::chrono::system_clock::time_point time) {
  const std::time_t t = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char buffer[17];
  std::strftime(buffer, sizeof buffer, "%Y%m%dT%H%M%SZ", &utc);
  return buffer;
}

std::string uri_encode(std::string_view text, bool encode_slash) {
  // SigV4's URI-encode is RFC 3986 percent-encoding with uppercase hex; in S3 paths '/' stays literal.
  if (encode_slash) return http::percent_encode(text);
  std::string out;
  for (std::size_t start = 0;;) {
    const std::size_t slash = text.find('/', start);
    out += http::percent_encode(text.substr(start, slash - start));
    if (slash == std::string_view::npos) return out;
    out.push_back('/');
    start = slash + 1;
  }
}

Signature sign(const RequestToSign& request, const Credentials& credentials, const Scope& scope,
               std::string_view date) {
  check_date(date);
  const CanonicalHeaders headers = canonical_headers(request.headers);
  Signature out;
  out.signed_headers = headers.signed_names;
  out.canonical_request = request.method + "\n" + uri_encode(request.path.empty() ? "/" : request.path, false) + "\n" +
                          canonical_query(request.query) + "\n" + headers.lines + "\n" + headers.signed_names + "\n" +
                          request.payload_hash;
  const std::string scope_text = credential_scope(date, scope);
  out.string_to_sign =
      std::string(kAlgorithm) + "\n" + std::string(date) + "\n" + scope_text + "\n" + sha256_hex(out.canonical_request);
  const std::string mac = hmac_sha256(signing_key(credentials, date, scope), out.string_to_sign);
  out.signature = hex(reinterpret_cast<const unsigned char*>(mac.data()), mac.size());
  out.authorization = std::string(kAlgorithm) + " Credential=" + credentials.access_key + "/" + scope_text +
                      ", SignedHeaders=" + out.signed_headers + ", Signature=" + out.signature;
  return out;
}

std::string presign_query(const RequestToSign& request, const Credentials& credentials, const Scope& scope,
                          std::string_view date, std::chrono::seconds expires) {
  check_date(date);
  RequestToSign presigned = request;
  presigned.payload_hash = std::string(kUnsignedPayload);
  // Only host is signed: the browser or curl that follows the URL sends no other header we could predict.
  presigned.headers.clear();
  for (const auto& [name, value] : request.headers)
    if (lower(name) == "host") presigned.headers.emplace_back(name, value);
  if (presigned.headers.empty()) throw std::invalid_argument("presign_query needs a host header");
  auto& q = presigned.query;
  q.emplace_back("X-Amz-Algorithm", std::string(kAlgorithm));
  q.emplace_back("X-Amz-Credential", credentials.access_key + "/" + credential_scope(date, scope));
  q.emplace_back("X-Amz-Date", std::string(date));
  q.emplace_back("X-Amz-Expires", std::to_string(expires.count()));
  if (!credentials.session_token.empty()) q.emplace_back("X-Amz-Security-Token", credentials.session_token);
  q.emplace_back("X-Amz-SignedHeaders", "host");
  const Signature signature = sign(presigned, credentials, scope, date);
  return canonical_query(q) + "&X-Amz-Signature=" + signature.signature;
}

}  // namespace vncgate::storage::sigv4
