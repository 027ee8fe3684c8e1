// Shared helpers for the metrics tests: the fixture's route table and a tiny exposition parser.
#pragma once

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "telemetry/metrics.h"

namespace gw::telemetry::testing {

// The KrakenD config that produced the fixture (integrations-core krakend/tests/docker/krakend.json).
inline MetricsConfig fixture_config(unsigned workers = 2) {
  MetricsConfig c;
  c.service_name = "krakend-gateway";
  c.service_version = "1.0.0";
  c.workers = workers;
  for (const char* name : {"valid", "invalid", "timeout", "cancelled", "no-content-length"}) {
    RouteDesc r{std::string("/api/") + name, "GET", {}};
    r.backends.push_back(
        BackendDesc{"GET", std::string("/") + name + "/", "http://api:80", {{"backend_type", "test_api"}}});
    c.routes.push_back(std::move(r));
  }
  return c;
}

enum Route : std::uint32_t { kValid, kInvalid, kTimeout, kCancelled, kNoContentLength };

// Roughly the traffic of integrations-core's helpers.py.
inline void record_fixture_traffic(MetricsShard& s) {
  s.server(kValid, "GET", 200, 0.001, 57);
  s.proxy(kValid, 0.001, false, false, true);
  s.backend(kValid, 0, 0.001, false, false, true);
  s.client(kValid, 0, 200, 0.0009, ClientOutcome::ok, 0, 57, false, {0.0001, 0.0002, 0});
  s.read(kValid, 0, 57, 0.00001);
  s.server(kInvalid, "GET", 500, 0.002, 0);
  s.proxy(kInvalid, 0.002, true, false, false);
  s.backend(kInvalid, 0, 0.002, true, false, false);
  s.client(kInvalid, 0, 500, 0.0015, ClientOutcome::ok, 0, 39, false, {0.0001, 0.0002, 0});
  s.server(kTimeout, "GET", 500, 1.0, 0);
  s.proxy(kTimeout, 1.0, true, false, false);
  s.backend(kTimeout, 0, 1.0, true, false, false);
  s.client(kTimeout, 0, 0, 1.0, ClientOutcome::timedout, 0, -1, false, {0.0001, 0.0002, 0});
  s.server(kCancelled, "GET", 500, 0.1, 0);
  s.proxy(kCancelled, 0.1, false, true, false);
  s.backend(kCancelled, 0, 0.1, false, true, false);
  s.client(kCancelled, 0, 0, 0.1, ClientOutcome::canceled, 0, -1, false, {0.0001, 0.0002, 0});
  s.server(kNoContentLength, "GET", 200, 0.2, 37);
  s.proxy(kNoContentLength, 0.2, false, false, true);
  s.backend(kNoContentLength, 0, 0.2, false, false, true);
  s.client(kNoContentLength, 0, 200, 0.2, ClientOutcome::ok, 0, -1, false, {0.0001, 0.0002, 0});
  s.read(kNoContentLength, 0, 38, 0.2);
  s.server(MetricsShard::kUnmatched, "GET", 301, 0.0001, 0);
}

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct Exposition {
  std::map<std::string, std::string> types;  // family -> TYPE
  std::vector<Sample> samples;
  // Family of a sample name (strips _bucket/_sum/_count for histograms and summaries).
  std::string family_of(const std::string& sample) const {
    if (types.count(sample)) return sample;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      std::string s(suffix);
      if (sample.size() > s.size() && sample.compare(sample.size() - s.size(), s.size(), s) == 0) {
        std::string base = sample.substr(0, sample.size() - s.size());
        if (types.count(base)) return base;
      }
    }
    return sample;
  }
  std::map<std::string, std::set<std::string>> label_names() const {
    std::map<std::string, std::set<std::string>> out;
    for (const auto& s : samples) {
      auto& set = out[family_of(s.name)];
      for (const auto& [k, _] : s.labels)
        if (k != "le" && k != "quantile") set.insert(k);
    }
    return out;
  }
  std::set<double> le_values(const std::string& family) const {
    std::set<double> out;
    for (const auto& s : samples)
      if (s.name == family + "_bucket" && s.labels.at("le") != "+Inf")
        out.insert(std::stod(s.labels.at("le")));
    return out;
  }
  double value(const std::string& name, const std::map<std::string, std::string>& match) const {
    double sum = 0;
    for (const auto& s : samples) {
      if (s.name != name) continue;
      bool ok = true;
      for (const auto& [k, v] : match) ok = ok && s.labels.count(k) && s.labels.at(k) == v;
      if (ok) sum += s.value;
    }
    return sum;
  }
};

inline Exposition parse_exposition(const std::string& text) {
  Exposition e;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream ls(line.substr(7));
      std::string name, type;
      ls >> name >> type;
      e.types[name] = type;
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    Sample s;
    std::size_t i = line.find_first_of("{ ");
    s.name = line.substr(0, i);
    if (line[i] == '{') {
      ++i;
      while (line[i] != '}') {
        std::size_t eq = line.find('=', i);
        std::string key = line.substr(i, eq - i);
        std::string val;
        std::size_t j = eq + 2;
        for (; line[j] != '"'; ++j) {
          if (line[j] == '\\') ++j;
          val += line[j];
        }
        s.labels[key] = val;
        i = j + 1;
        if (line[i] == ',') ++i;
      }
      ++i;
    }
    s.value = std::stod(line.substr(i + 1));
    e.samples.push_back(std::move(s));
  }
  return e;
}

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string fixture_text() {
  auto here = std::filesystem::path(__FILE__).parent_path() / "data" / "krakend-metrics-fixture.txt";
  return read_file(here);
}

}  // namespace gw::telemetry::testing
