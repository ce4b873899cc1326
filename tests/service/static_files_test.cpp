// SPDX-License-Identifier: Apache-2.0
// Static files for the web root: types, ETag/304, and every way a path could leave the root.
#include "service/static_files.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "support/process.hpp"

namespace vncgate::service {
namespace {

namespace fs = std::filesystem;
using test::TempDir;
using test::write_file;

std::optional<std::string> header(const HttpResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return std::nullopt;
}

class StaticFiles : public testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(root() + "/static");
    write_file(root() + "/index.html", "<h1>dashboard</h1>");
    write_file(root() + "/static/console.js", "export {};");
    write_file(outside_.file("secret.txt"), "top secret");
  }
  std::string root() const { return dir_.path() + "/web"; }
  HttpRequest get(const std::string& if_none_match = "") const {
    HttpRequest r;
    r.method = "GET";
    if (!if_none_match.empty()) r.headers.emplace_back("If-None-Match", if_none_match);
    return r;
  }

  TempDir dir_{"vncgate-static"};
  TempDir outside_{"vncgate-static-outside"};
};

TEST_F(StaticFiles, Serve_ReturnsFileWithTypeEtagAndCacheControl) {
  const auto r = serve_static(root(), "/index.html", get());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "<h1>dashboard</h1>");
  EXPECT_EQ(r->content_type, "text/html; charset=utf-8");
  EXPECT_EQ(header(*r, "Cache-Control"), "no-cache");
  EXPECT_EQ(header(*r, "X-Content-Type-Options"), "nosniff");
  ASSERT_TRUE(header(*r, "ETag"));
  EXPECT_EQ(header(*r, "ETag")->front(), '"');

  const auto js = serve_static(root(), "static/console.js", get());  // the leading '/' is optional
  ASSERT_TRUE(js);
  EXPECT_EQ(js->body, "export {};");
  EXPECT_EQ(js->content_type, "text/javascript; charset=utf-8");
}

TEST(StaticContentType, KnownExtensions_MapToTheirTypes) {
  EXPECT_EQ(content_type_for("a/b.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type_for("x.mjs"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type_for("x.css"), "text/css; charset=utf-8");
  EXPECT_EQ(content_type_for("x.HTML"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_for("x.svg"), "image/svg+xml");
  EXPECT_EQ(content_type_for("x.png"), "image/png");
  EXPECT_EQ(content_type_for("favicon.ico"), "image/x-icon");
  EXPECT_EQ(content_type_for("x.json"), "application/json");
  EXPECT_EQ(content_type_for("x.wasm"), "application/wasm");
  EXPECT_EQ(content_type_for("openapi.yaml"), "application/yaml");
  EXPECT_EQ(content_type_for("x.bin"), "application/octet-stream");
  EXPECT_EQ(content_type_for("dir.js/README"), "application/octet-stream");
  EXPECT_EQ(content_type_for("Makefile"), "application/octet-stream");
}

TEST_F(StaticFiles, IfNoneMatch_CurrentEtag_Gives304WithoutBody) {
  const std::string etag = *header(*serve_static(root(), "index.html", get()), "ETag");
  for (const std::string& inm : {etag, "W/" + etag, "\"other\", " + etag, std::string("*")}) {
    const auto r = serve_static(root(), "index.html", get(inm));
    ASSERT_TRUE(r) << inm;
    EXPECT_EQ(r->status, 304) << inm;
    EXPECT_EQ(r->body, "") << inm;
    EXPECT_EQ(header(*r, "ETag"), etag) << inm;
  }
  const auto stale = serve_static(root(), "index.html", get("\"stale\""));
  ASSERT_TRUE(stale);
  EXPECT_EQ(stale->status, 200);
}

TEST_F(StaticFiles, ChangedFile_GetsNewEtag) {
  const std::string before = *header(*serve_static(root(), "index.html", get()), "ETag");
  write_file(root() + "/index.html", "<h1>dashboard v2</h1>");
  const auto after = serve_static(root(), "index.html", get(before));
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
  EXPECT_NE(header(*after, "ETag"), before);
  EXPECT_EQ(after->body, "<h1>dashboard v2</h1>");
}

TEST_F(StaticFiles, MalformedPaths_Give400) {
  for (const std::string& path : std::vector<std::string>{
           "../outside", "/static/../index.html", "static/./console.js", "static//console.js", "//etc/passwd",
           "/static\\console.js", std::string("index.html\0.js", 14), "static/\x01.js", "", "/", "static/"}) {
    const auto r = serve_static(root(), path, get());
    ASSERT_TRUE(r) << "path: " << path;
    EXPECT_EQ(r->status, 400) << "path: " << path;
    EXPECT_NE(r->body.find("bad_path"), std::string::npos);
  }
}

TEST_F(StaticFiles, MissingFilesAndDirectories_GiveNullopt) {
  EXPECT_FALSE(serve_static(root(), "nosuch.html", get()));
  EXPECT_FALSE(serve_static(root(), "static", get()));
  EXPECT_FALSE(serve_static(root(), "static/nosuch/x.js", get()));
  EXPECT_FALSE(serve_static(dir_.path() + "/no-root", "index.html", get()));
}

TEST_F(StaticFiles, SymlinkLeavingRoot_GivesNullopt) {
  fs::create_symlink(outside_.file("secret.txt"), root() + "/static/leak.txt");
  fs::create_directory_symlink(outside_.path(), root() + "/static/outdir");
  EXPECT_FALSE(serve_static(root(), "static/leak.txt", get()));
  EXPECT_FALSE(serve_static(root(), "static/outdir/secret.txt", get()));
  // A sibling whose name starts with the root's name is still outside.
  fs::create_directories(root() + "2");
  write_file(root() + "2/secret.txt", "sibling");
  fs::create_symlink(root() + "2/secret.txt", root() + "/sibling.txt");
  EXPECT_FALSE(serve_static(root(), "sibling.txt", get()));
}

TEST_F(StaticFiles, SymlinksInsideRoot_AreServed) {
  fs::create_symlink("console.js", root() + "/static/alias.js");
  const auto r = serve_static(root(), "static/alias.js", get());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "export {};");
  // The root itself may be a symlink (e.g. a release directory).
  fs::create_directory_symlink(root(), dir_.path() + "/current");
  const auto via_link = serve_static(dir_.path() + "/current", "index.html", get());
  ASSERT_TRUE(via_link);
  EXPECT_EQ(via_link->body, "<h1>dashboard</h1>");
}

}  // namespace
}  // namespace vncgate::service
