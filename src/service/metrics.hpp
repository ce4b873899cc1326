// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace vncgate::service {

// Counters and gauges with labels, rendered in the Prometheus text exposition format (version 0.0.4).
// Thread-safe. Names and help texts are registered on first use.
class Metrics {
 public:
  using Labels = std::vector<std::pair<std::string, std::string>>;

  void add(const std::string& name, const std::string& help, const Labels& labels = {}, double value = 1);
  void set(const std::string& name, const std::string& help, const Labels& labels, double value);
  double value(const std::string& name, const Labels& labels = {}) const;
  std::string render() const;

 private:
  struct Family {
    std::string help;
    bool gauge = false;
    std::map<std::string, double> samples;  // rendered label set → value
  };
  void update(const std::string& name, const std::string& help, bool gauge, const Labels& labels, double value,
              bool replace);

  mutable std::mutex mutex_;
  std::map<std::string, Family> families_;
};

}  // namespace vncgate::service
