// libFuzzer target for the WAF's untrusted inputs: rules files (DD_APPSEC_RULES is operator-supplied,
// but Datadog's rule format evolves and a malformed file must be refused, never crash) and requests
// (hostile clients). The first byte picks the mode; the rest is the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "appsec/appsec.h"

namespace {

using gw::appsec::Field;
using gw::appsec::RequestView;
using gw::appsec::Settings;
using gw::appsec::Waf;

Settings settings() {
  Settings s;
  s.enabled = true;
  s.waf_timeout = std::chrono::microseconds(100000);
  return s;
}

// Every operator, transformer family and address, so request fuzzing reaches all of them.
constexpr std::string_view kRules = R"RULES({"version":"2.2","metadata":{"rules_version":"1"},
 "actions":[{"id":"r","type":"redirect_request","parameters":{"location":"/x","status_code":307}}],
 "rules_data":[{"id":"ips","type":"ip_with_expiration","data":[{"value":"10.0.0.0/8","expiration":0}]},
               {"id":"vals","type":"data_with_expiration","data":[{"value":"bad","expiration":0}]}],
 "rules":[
  {"id":"a","name":"a","tags":{"type":"t","category":"c"},"transformers":["urlDecodeUni","lowercase","normalizePath"],
   "conditions":[{"operator":"match_regex","parameters":{"inputs":[{"address":"server.request.query"},
     {"address":"server.request.body"},{"address":"server.request.uri.raw"}],"regex":"(?:select|union|\\.\\./)","options":{"min_length":3}}}]},
  {"id":"b","name":"b","tags":{"type":"t","category":"c"},"transformers":["removeNulls","cmdLine"],
   "conditions":[{"operator":"phrase_match","parameters":{"inputs":[{"address":"server.request.headers.no_cookies"}],
     "list":["cat /etc","wget"],"options":{"enforce_word_boundary":true}}}]},
  {"id":"c","name":"c","tags":{"type":"t","category":"c"},"conditions":[{"operator":"is_sqli","parameters":{"inputs":[
     {"address":"server.request.query"},{"address":"server.request.body"},{"address":"server.request.cookies"}]}}]},
  {"id":"d","name":"d","tags":{"type":"t","category":"c"},"transformers":["htmlEntityDecode","jsDecode","cssDecode"],
   "conditions":[{"operator":"is_xss","parameters":{"inputs":[{"address":"server.request.body"},{"address":"server.request.path_params"}]}}]},
  {"id":"e","name":"e","tags":{"type":"t","category":"c"},"on_match":["block"],"conditions":[{"operator":"ip_match",
     "parameters":{"inputs":[{"address":"http.client_ip"}],"data":"ips"}}]},
  {"id":"f","name":"f","tags":{"type":"t","category":"c"},"transformers":["keys_only","base64Decode","removeComments"],
   "conditions":[{"operator":"exact_match","parameters":{"inputs":[{"address":"server.request.body"}],"data":"vals"}}]},
  {"id":"g","name":"g","tags":{"type":"t","category":"c"},"on_match":["r"],"conditions":[
   {"operator":"equals","parameters":{"inputs":[{"address":"server.request.body","key_path":["n"]}],"type":"unsigned","value":7}},
   {"operator":"!exists","parameters":{"inputs":[{"address":"server.request.headers.no_cookies","key_path":["x-ok"]}]}}]},
  {"id":"h","name":"h","tags":{"type":"t","category":"c"},"conditions":[
   {"operator":"match_regex","parameters":{"inputs":[{"address":"server.response.status"}],"regex":"^4"}},
   {"operator":"!match_regex","parameters":{"inputs":[{"address":"server.request.method"}],"regex":"^GET$"}}]}],
 "exclusions":[{"id":"x","inputs":[{"address":"server.request.query","key_path":["safe"]}]}]})RULES";

// Splits the input into the parts of a request at '\n': target, then header lines, then the body.
RequestView request_from(std::string_view data, std::vector<std::string>& keep) {
  RequestView r;
  r.method = "POST";
  r.peer_ip = "10.1.2.3";
  const std::size_t first = data.find('\n');
  r.target = data.substr(0, first);
  std::string_view rest = first == std::string_view::npos ? std::string_view() : data.substr(first + 1);
  const std::size_t blank = rest.find("\n\n");
  std::string_view head = rest.substr(0, blank);
  r.body = blank == std::string_view::npos ? std::string_view() : rest.substr(blank + 2);
  while (!head.empty()) {
    const std::size_t nl = head.find('\n');
    std::string_view line = head.substr(0, nl);
    head = nl == std::string_view::npos ? std::string_view() : head.substr(nl + 1);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    r.headers.push_back(Field{line.substr(0, colon), line.substr(colon + 1)});
  }
  r.path_params.push_back(Field{"id", r.target.substr(0, std::min<std::size_t>(r.target.size(), 16))});
  (void)keep;
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  if (size == 0) return 0;
  static const auto builtin = Waf::compile(gw::appsec::builtin_rules(), "built-in", settings());
  static const auto covering = Waf::compile(kRules, "fuzz", settings());
  if (covering->info().failed != 0) std::abort();  // every rule above must load, or the fuzzer misses it
  const std::string_view data(reinterpret_cast<const char*>(bytes) + 1, size - 1);
  std::vector<std::string> keep;
  if (bytes[0] % 2 == 0) {  // a rules file
    try {
      auto waf = Waf::compile(data, "fuzz.json", settings());
      RequestView r =
          request_from("/a?q=1'or'1'='1\nContent-Type: application/json\n\n{\"a\":[1,\"x\"]}", keep);
      auto found = waf->inspect_request(r);
      waf->inspect_response(found, 404);
      (void)found.event_json();
    } catch (const gw::appsec::LoadError&) {
    }
    return 0;
  }
  const RequestView r = request_from(data, keep);
  for (const auto* waf : {builtin.get(), covering.get()}) {
    auto found = waf->inspect_request(r);
    waf->inspect_response(found, 404);
    (void)found.event_json();
  }
  return 0;
}
