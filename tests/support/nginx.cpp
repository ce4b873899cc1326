// SPDX-License-Identifier: Apache-2.0
#include "support/nginx.hpp"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace vncgate::test {

std::string nginx_binary() {
  if (const char* path = std::getenv("VNCGATE_NGINX")) return path;
  return std::filesystem::exists("/usr/sbin/nginx") ? "/usr/sbin/nginx" : "";
}

NginxProxy::NginxProxy(const std::vector<int>& upstream_ports) {
  const auto binary = nginx_binary();
  if (binary.empty()) throw std::runtime_error("nginx: not installed (scripts/install-deps.sh installs nginx-light)");
  port_ = free_port();
  const auto& d = dir_.path();
  std::string upstreams;
  for (int p : upstream_ports) upstreams += "    server 127.0.0.1:" + std::to_string(p) + " max_fails=0;\n";
  // max_fails=0: a node that refused connections stays in the rotation, so requests keep going round-robin in
  // a fixed order; a refused connection is still passed to the next node (proxy_next_upstream error).
  write_file(dir_.file("nginx.conf"),
             "daemon off;\nmaster_process off;\nworker_processes 1;\npid " + d + "/nginx.pid;\nerror_log " + d +
                 "/error.log info;\n"
                 "events { worker_connections 512; }\n"
                 "http {\n"
                 "  log_format upstreams '$request_method $request_uri $upstream_addr $status';\n"
                 "  access_log " +
                 d +
                 "/access.log upstreams;\n"
                 "  client_body_temp_path " +
                 d + "/body;\n  proxy_temp_path " + d + "/proxy;\n  fastcgi_temp_path " + d +
                 "/fastcgi;\n  uwsgi_temp_path " + d + "/uwsgi;\n  scgi_temp_path " + d +
                 "/scgi;\n"
                 "  map $http_upgrade $connection_upgrade { default upgrade; '' close; }\n"
                 "  upstream nodes {\n" +
                 upstreams +
                 "  }\n"
                 "  server {\n"
                 "    listen 127.0.0.1:" +
                 std::to_string(port_) +
                 ";\n"
                 "    location / {\n"
                 "      proxy_pass http://nodes;\n"
                 "      proxy_http_version 1.1;\n"
                 "      proxy_set_header Host $http_host;\n"
                 "      proxy_set_header Upgrade $http_upgrade;\n"
                 "      proxy_set_header Connection $connection_upgrade;\n"
                 "      proxy_read_timeout 1h;\n"
                 "      proxy_buffering off;\n"
                 "    }\n"
                 "  }\n"
                 "}\n");
  process_ =
      Process({binary, "-p", d, "-c", dir_.file("nginx.conf"), "-e", dir_.file("error.log")}, dir_.file("nginx.out"));
  if (!wait_for_port(port_, std::chrono::seconds(10)))
    throw std::runtime_error("nginx did not listen: " + process_.log_tail() + read_file(dir_.file("error.log")));
}

NginxProxy::~NginxProxy() { process_.stop(); }

}  // namespace vncgate::test
