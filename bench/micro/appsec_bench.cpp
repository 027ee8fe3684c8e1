// The AppSec ruleset evaluator and WAF micro-benchmarks.
//
//   micro_appsec --corpus=tests/appsec/corpus.jsonl [--rules=other.json]
// inspects every request of the corpus (tests/appsec/README.md) with the built-in ruleset (or the
// --rules file) and prints, per class, the detection rate of attacks / the false-positive rate of
// benign requests, listing every miss and every false positive with the rule ids that fired.
// Without --corpus it runs the benchmarks: BM_InspectBenign / BM_InspectAttack for the built-in
// ruleset and, with --rules, for that file too.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "appsec/appsec.h"
#include "json/json.h"

namespace {

using gw::appsec::Field;
using gw::appsec::RequestView;
using gw::appsec::Waf;

// One corpus line, owning the strings the RequestView points into.
struct Sample {
  std::string cls, method, target, body;
  std::vector<std::pair<std::string, std::string>> headers, path_params;
  RequestView view() const {
    RequestView v;
    v.method = method;
    v.target = target;
    for (const auto& [n, val] : headers) v.headers.push_back(Field{n, val});
    for (const auto& [n, val] : path_params) v.path_params.push_back(Field{n, val});
    v.body = body;
    v.peer_ip = "127.0.0.1";
    return v;
  }
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    std::exit(2);
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string string_member(const gw::json::Value& v, std::string_view key) {
  const gw::json::Value* m = v.find(key);
  return m && m->is_string() ? m->as_string() : std::string();
}

std::vector<std::pair<std::string, std::string>> string_map(const gw::json::Value& v, std::string_view key) {
  std::vector<std::pair<std::string, std::string>> out;
  const gw::json::Value* m = v.find(key);
  if (!m || !m->is_object()) return out;
  for (const auto& [k, val] : m->as_object())
    if (val.is_string()) out.emplace_back(k, val.as_string());
  return out;
}

std::vector<Sample> load_corpus(const std::string& path) {
  std::vector<Sample> out;
  std::istringstream lines(read_file(path));
  std::string line;
  for (int n = 1; std::getline(lines, line); ++n) {
    if (line.empty()) continue;
    gw::json::ParseError err;
    auto doc = gw::json::parse(line, &err);
    if (!doc || !doc->is_object()) {
      std::fprintf(stderr, "%s:%d: %s\n", path.c_str(), n, err.message.c_str());
      std::exit(2);
    }
    Sample s;
    s.cls = string_member(*doc, "class");
    s.method = string_member(*doc, "method");
    s.target = string_member(*doc, "target");
    s.body = string_member(*doc, "body");
    s.headers = string_map(*doc, "headers");
    s.path_params = string_map(*doc, "path_params");
    out.push_back(std::move(s));
  }
  return out;
}

std::shared_ptr<const Waf> compile(const std::string& rules, const std::string& source) {
  gw::appsec::Settings settings;
  settings.enabled = true;
  auto waf = Waf::compile(rules, source, settings);
  const auto& info = waf->info();
  std::printf("%s: rules_version %s, %u loaded, %u failed, %u skipped\n", source.c_str(),
              info.rules_version.c_str(), info.loaded, info.failed, info.skipped);
  if (info.failed) std::printf("  errors: %s\n", info.errors_json().c_str());
  return waf;
}

// Rule ids of an inspection's triggers, comma-separated.
std::string rule_ids(const gw::appsec::Inspection& insp) {
  std::string out;
  for (const auto& t : insp.triggers) {
    auto doc = gw::json::parse(t);
    const gw::json::Value* rule = doc ? doc->find("rule") : nullptr;
    const gw::json::Value* id = rule ? rule->find("id") : nullptr;
    if (!out.empty()) out += ", ";
    out += id && id->is_string() ? id->as_string() : "?";
    // The first parameter of the first match: where it fired and on what.
    const gw::json::Value* matches = doc ? doc->find("rule_matches") : nullptr;
    if (matches && matches->is_array() && !matches->as_array().empty()) {
      const gw::json::Value* params = matches->as_array()[0].find("parameters");
      if (params && params->is_array() && !params->as_array().empty()) {
        const auto& p = params->as_array()[0];
        out += " " + string_member(p, "address");
        if (const gw::json::Value* kp = p.find("key_path")) out += gw::json::encode(*kp);
        if (const gw::json::Value* hl = p.find("highlight")) out += " highlight=" + gw::json::encode(*hl);
      }
    }
  }
  return out;
}

std::string describe(const Sample& s) {
  std::string out = s.method + " " + s.target;
  for (const auto& [n, v] : s.headers)
    if (n == "referer" || n == "cookie" || n == "x-forwarded-host" || n == "x-api-version" ||
        (n == "user-agent" && s.cls != "benign"))
      out += " | " + n + ": " + v;
  if (!s.body.empty()) out += " | body: " + s.body.substr(0, 160);
  for (char& c : out)
    if (c == '\n') c = ' ';
  return out;
}

int evaluate(const std::vector<Sample>& corpus, const Waf& waf) {
  struct Tally {
    unsigned total = 0, flagged = 0;
  };
  std::map<std::string, Tally> tally;
  // A first pass warms up RE2's lazily built DFAs, so the mean below is the steady-state cost.
  for (const auto& s : corpus) benchmark::DoNotOptimize(waf.inspect_request(s.view()));
  std::uint64_t ns = 0;
  for (const auto& s : corpus) {
    const RequestView view = s.view();
    const auto insp = waf.inspect_request(view);
    ns += insp.duration_ns;
    auto& t = tally[s.cls];
    ++t.total;
    if (insp.has_events()) ++t.flagged;
    if (s.cls == "benign" && insp.has_events())
      std::printf("FALSE POSITIVE [%s] %s\n", rule_ids(insp).c_str(), describe(s).c_str());
    else if (s.cls != "benign" && !insp.has_events())
      std::printf("MISSED %s: %s\n", s.cls.c_str(), describe(s).c_str());
    if (insp.timed_out) std::printf("TIMED OUT: %s\n", describe(s).c_str());
  }
  unsigned attacks = 0, detected = 0;
  std::printf("\n%-10s %6s %8s %8s\n", "class", "total", "flagged", "rate");
  for (const auto& [cls, t] : tally) {
    std::printf("%-10s %6u %8u %7.1f%%%s\n", cls.c_str(), t.total, t.flagged, 100.0 * t.flagged / t.total,
                cls == "benign" ? "  (false positives)" : "");
    if (cls != "benign") attacks += t.total, detected += t.flagged;
  }
  if (attacks)
    std::printf("%-10s %6u %8u %7.1f%%\n", "attacks", attacks, detected, 100.0 * detected / attacks);
  std::printf("mean WAF time per request: %.1f us\n", corpus.empty() ? 0.0 : ns / 1e3 / corpus.size());
  return 0;
}

// ---- benchmarks -----------------------------------------------------------------------------------------

const std::string kBenignBody =
    R"({"order_id":"3f2b7c1e-9a4d-4e8b-a1c2-5d6e7f8a9b0c","created_at":"2024-05-01T12:30:00Z",)"
    R"("customer":{"name":"Seán O'Brien","email":"sean.obrien@example.ie","phone":"+353 1 234 5678"},)"
    R"("items":[{"sku":"SKU-01234","qty":2,"price":"19.99","name":"Men's T-Shirt \"Classic\""},)"
    R"({"sku":"SKU-04321","qty":1,"price":"4.50","name":"Drop-in sink"}],"coupon":"SPRING-25",)"
    R"("notes":"Please leave it at the door; we're out until 5pm."})";
const std::string kJwt =
    "Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0Ijox"
    "NTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5cSflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";

Sample typical(std::string target, std::string body) {
  Sample s;
  s.cls = "bench";
  s.method = "POST";
  s.target = std::move(target);
  s.body = std::move(body);
  s.headers = {{"host", "api.example.com"},
               {"user-agent", "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"},
               {"accept", "application/json, text/plain, */*"},
               {"accept-language", "de-DE,de;q=0.9,en;q=0.8"},
               {"content-type", "application/json"},
               {"authorization", kJwt},
               {"x-request-id", "b6f1c2d3-4e5f-4a6b-8c7d-9e0f1a2b3c4d"},
               {"cookie", "session=aHttEviBIqHQV06QixL6Gwlq; theme=dark"}};
  return s;
}

std::string g_rules_path;  // --rules=

void run_inspection(benchmark::State& state, const Waf& waf, const Sample& s) {
  const RequestView view = s.view();
  for (auto _ : state) {
    auto insp = waf.inspect_request(view);
    benchmark::DoNotOptimize(insp);
  }
}

void register_benchmarks() {
  struct Set {
    std::string name;
    std::shared_ptr<const Waf> waf;
  };
  static std::vector<Set> sets;
  sets.push_back({"builtin", compile(std::string(gw::appsec::builtin_rules()), "built-in")});
  if (!g_rules_path.empty()) sets.push_back({"rules_file", compile(read_file(g_rules_path), g_rules_path)});
  static const Sample benign = typical("/api/v1/orders?expand=items&lang=de", kBenignBody);
  static const Sample attack =
      typical("/api/v1/orders?id=1%27%20UNION%20SELECT%20password%20FROM%20users--",
              R"({"note":"<img src=x onerror=alert(1)>","url":"http://169.254.169.254/latest/meta-data/"})");
  for (const auto& set : sets) {
    const Waf* waf = set.waf.get();
    benchmark::RegisterBenchmark(("BM_InspectBenign/" + set.name).c_str(), [waf](benchmark::State& st) {
      run_inspection(st, *waf, benign);
    })->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("BM_InspectAttack/" + set.name).c_str(), [waf](benchmark::State& st) {
      run_inspection(st, *waf, attack);
    })->Unit(benchmark::kMicrosecond);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string corpus_path;
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--corpus=", 9) == 0) {
      corpus_path = argv[i] + 9;
    } else if (std::strncmp(argv[i], "--rules=", 8) == 0) {
      g_rules_path = argv[i] + 8;
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (!corpus_path.empty()) {
    const auto corpus = load_corpus(corpus_path);
    const std::string rules =
        g_rules_path.empty() ? std::string(gw::appsec::builtin_rules()) : read_file(g_rules_path);
    const auto waf = compile(rules, g_rules_path.empty() ? "built-in" : g_rules_path);
    return evaluate(corpus, *waf);
  }
  int n = static_cast<int>(rest.size());
  benchmark::Initialize(&n, rest.data());
  register_benchmarks();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
