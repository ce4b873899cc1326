// SPDX-License-Identifier: Apache-2.0
// The signer against published vectors: the AWS Signature V4 test suite (credentials AKIDEXAMPLE, region
// us-east-1, service "service", 20150830T123600Z) and the examples of the S3 API reference (examplebucket).
#include "storage/sigv4.hpp"

#include <gtest/gtest.h>

namespace vncgate::storage::sigv4 {
namespace {

const Credentials kSuiteCredentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
const Scope kSuiteScope{"us-east-1", "service"};
constexpr std::string_view kSuiteDate = "20150830T123600Z";
const std::string kEmptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

RequestToSign suite_request(std::string method, std::string path, Pairs query, Pairs extra_headers = {},
                            std::string_view body = "") {
  RequestToSign r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.query = std::move(query);
  r.headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", std::string(kSuiteDate)}};
  for (auto& h : extra_headers) r.headers.push_back(std::move(h));
  r.payload_hash = sha256_hex(body);
  return r;
}

std::string suite_authorization(std::string_view signed_headers, std::string_view signature) {
  return "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=" +
         std::string(signed_headers) + ", Signature=" + std::string(signature);
}

TEST(SigV4Suite, GetVanilla_MatchesVector) {
  const auto s = sign(suite_request("GET", "/", {}), kSuiteCredentials, kSuiteScope, kSuiteDate);
  EXPECT_EQ(s.canonical_request,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" + kEmptyHash);
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  EXPECT_EQ(s.authorization,
            suite_authorization("host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"));
}

TEST(SigV4Suite, GetVanillaQueryOrderKeyCase_SortsParametersByName) {
  const auto s = sign(suite_request("GET", "/", {{"Param2", "value2"}, {"Param1", "value1"}}), kSuiteCredentials,
                      kSuiteScope, kSuiteDate);
  EXPECT_EQ(sha256_hex(s.canonical_request), "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0");
  EXPECT_EQ(s.signature, "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

TEST(SigV4Suite, GetVanillaQueryOrderValue_SortsDuplicateNamesByValue) {
  const auto s = sign(suite_request("GET", "/", {{"Param1", "value2"}, {"Param1", "value1"}}), kSuiteCredentials,
                      kSuiteScope, kSuiteDate);
  EXPECT_EQ(s.signature, "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694");
}

TEST(SigV4Suite, GetUnreserved_KeepsUnreservedCharacters) {
  const auto s = sign(suite_request("GET", "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", {}),
                      kSuiteCredentials, kSuiteScope, kSuiteDate);
  EXPECT_EQ(s.signature, "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f");
}

TEST(SigV4Suite, GetHeaderKeyDuplicate_JoinsValuesInOrder) {
  const auto s = sign(suite_request("GET", "/", {},
                                    {{"My-Header1", "value2"}, {"My-Header1", "value2"}, {"My-Header1", "value1"}}),
                      kSuiteCredentials, kSuiteScope, kSuiteDate);
  EXPECT_NE(s.canonical_request.find("my-header1:value2,value2,value1\n"), std::string::npos);
  EXPECT_EQ(s.authorization, suite_authorization("host;my-header1;x-amz-date",
                                                 "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"));
}

TEST(SigV4Suite, PostVanilla_MatchesVector) {
  const auto s = sign(suite_request("POST", "/", {}), kSuiteCredentials, kSuiteScope, kSuiteDate);
  EXPECT_EQ(s.signature, "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
}

TEST(SigV4Suite, PostXWwwFormUrlencoded_SignsContentTypeAndBodyHash) {
  const auto s = sign(suite_request("POST", "/", {}, {{"Content-Type", "application/x-www-form-urlencoded"}},
                                    "Param1=value1"),
                      kSuiteCredentials, kSuiteScope, kSuiteDate);
  EXPECT_EQ(s.canonical_request,
            "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\n"
            "x-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n"
            "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281");
  EXPECT_EQ(s.authorization, suite_authorization("content-type;host;x-amz-date",
                                                 "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"));
}

TEST(SigV4Suite, HeaderValues_AreTrimmedAndSpacesCollapsed) {
  const auto s = sign(suite_request("GET", "/", {}, {{"My-Header1", "  value1   with  spaces "}}),
                      kSuiteCredentials, kSuiteScope, kSuiteDate);
  EXPECT_NE(s.canonical_request.find("my-header1:value1 with spaces\n"), std::string::npos);
}

// S3 API reference, "Authenticating Requests: Using Query Parameters" and "... Authorization Header".
const Credentials kS3DocCredentials{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
const Scope kS3DocScope{"us-east-1", "s3"};

TEST(SigV4S3Doc, PresignedGet_MatchesDocumentedSignature) {
  RequestToSign r;
  r.method = "GET";
  r.path = "/test.txt";
  r.headers = {{"Host", "examplebucket.s3.amazonaws.com"}};
  const std::string query = presign_query(r, kS3DocCredentials, kS3DocScope, "20130524T000000Z",
                                          std::chrono::seconds(86400));
  EXPECT_EQ(query,
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2F"
            "aws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
            "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST(SigV4S3Doc, GetObjectWithRange_MatchesDocumentedSignature) {
  RequestToSign r;
  r.method = "GET";
  r.path = "/test.txt";
  r.payload_hash = kEmptyHash;
  r.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
               {"Range", "bytes=0-9"},
               {"x-amz-content-sha256", kEmptyHash},
               {"x-amz-date", "20130524T000000Z"}};
  const auto s = sign(r, kS3DocCredentials, kS3DocScope, "20130524T000000Z");
  EXPECT_EQ(s.signed_headers, "host;range;x-amz-content-sha256;x-amz-date");
  EXPECT_EQ(s.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, UriEncode_EncodesOnceAndKeepsSlashesInPaths) {
  EXPECT_EQ(uri_encode("/job 1/seg+0.mp4", false), "/job%201/seg%2B0.mp4");
  EXPECT_EQ(uri_encode("a/b", true), "a%2Fb");
  EXPECT_EQ(uri_encode("\xc3\xbc", true), "%C3%BC");
}

TEST(SigV4, AmzDate_FormatsUtc) {
  EXPECT_EQ(amz_date(std::chrono::system_clock::time_point(std::chrono::seconds(1440938160))), "20150830T123600Z");
}

}  // namespace
}  // namespace vncgate::storage::sigv4
