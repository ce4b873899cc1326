// SPDX-License-Identifier: Apache-2.0
#include "service/metrics.hpp"

#include <cmath>
#include <cstdio>

namespace vncgate::service {

namespace {

// Label values escaped as the exposition format wants: backslash, double quote and newline.
std::string render_labels(const Metrics::Labels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ',';
    out += labels[i].first + "=\"";
    for (char c : labels[i].second) {
      if (c == '\\' || c == '"') out += '\\';
      if (c == '\n') {
        out += "\\n";
        continue;
      }
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  char text[64];
  std::snprintf(text, sizeof text, "%.17g", v);
  return text;
}

}  // namespace

void Metrics::update(const std::string& name, const std::string& help, bool gauge, const Labels& labels,
                     double value, bool replace) {
  std::lock_guard lock(mutex_);
  auto& family = families_[name];
  if (family.help.empty()) family.help = help, family.gauge = gauge;
  auto& sample = family.samples[render_labels(labels)];
  sample = replace ? value : sample + value;
}

void Metrics::add(const std::string& name, const std::string& help, const Labels& labels, double value) {
  update(name, help, false, labels, value, false);
}

void Metrics::set(const std::string& name, const std::string& help, const Labels& labels, double value) {
  update(name, help, true, labels, value, true);
}

double Metrics::value(const std::string& name, const Labels& labels) const {
  std::lock_guard lock(mutex_);
  const auto family = families_.find(name);
  if (family == families_.end()) return 0;
  const auto sample = family->second.samples.find(render_labels(labels));
  return sample == family->second.samples.end() ? 0 : sample->second;
}

std::string Metrics::render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& [name, family] : families_) {
    out += "# HELP " + name + " " + family.help + "\n";
    out += "# TYPE " + name + (family.gauge ? " gauge\n" : " counter\n");
    for (const auto& [labels, value] : family.samples) out += name + labels + " " + number(value) + "\n";
  }
  return out;
}

}  // namespace vncgate::service
