// SPDX-License-Identifier: Apache-2.0
// AWS Signature Version 4 (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html) as S3
// uses it: the path is percent-encoded once and never normalised. Pure functions, no I/O, no clock.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vncgate::storage::sigv4 {

using Pairs = std::vector<std::pair<std::string, std::string>>;

// The payload hash S3 accepts when the body is not hashed (presigned URLs, streamed bodies over TLS).
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

// Secrets: never logged, never put into exception messages.
struct Credentials {
  std::string access_key;
  std::string secret_key;
  std::string session_token;  // optional (STS); sent as X-Amz-Security-Token
};

struct Scope {
  std::string region = "us-east-1";
  std::string service = "s3";
};

// What the signature covers. Names and values are plain (not percent-encoded): the signer encodes them.
struct RequestToSign {
  std::string method;
  std::string path = "/";  // e.g. "/bucket/key with spaces"; '/' separates segments and stays as is
  Pairs query;             // in any order; duplicates allowed
  Pairs headers;           // must include host; names in any case; duplicates are joined with ','
  std::string payload_hash = std::string(kUnsignedPayload);  // hex SHA-256 of the body, or UNSIGNED-PAYLOAD
};

struct Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;  // "host;x-amz-date"
  std::string signature;       // lowercase hex
  std::string authorization;   // the Authorization header value
};

// Lowercase hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);
// Raw HMAC-SHA256.
std::string hmac_sha256(std::string_view key, std::string_view data);
// "20150830T123600Z" (UTC, second precision).
std::string amz_date(std::chrono::system_clock::time_point time);
// RFC 3986 unreserved characters kept, everything else %XX (uppercase); '/' kept unless `encode_slash`.
std::string uri_encode(std::string_view text, bool encode_slash);

// Signs `request` at `date` ("YYYYMMDDTHHMMSSZ"); the caller must already have put x-amz-date (= date) and,
// for S3, x-amz-content-sha256 into request.headers, because they have to be sent too.
Signature sign(const RequestToSign& request, const Credentials& credentials, const Scope& scope, std::string_view date);

// Presigned URL query (query-string authentication, S3 "UNSIGNED-PAYLOAD"): returns `request.query` plus the
// X-Amz-* parameters and X-Amz-Signature, already percent-encoded and joined with '&', to append after '?'.
// request.headers must contain host (the only signed header).
std::string presign_query(const RequestToSign& request, const Credentials& credentials, const Scope& scope,
                          std::string_view date, std::chrono::seconds expires);

}  // namespace vncgate::storage::sigv4
