// Events in libddwaf's shape (docs/datadog-appsec.md section 6): rule, rule_matches with address, key
// path, value and highlight, values redacted by the key and value obfuscation regexes.
#include "appsec/inspect.h"

namespace gw::appsec {

namespace {

std::string encode_event(const Rule& rule, const std::string& matches) {
  std::string out = R"({"rule":{"id":)";
  json::encode_string(rule.id, out);
  out += R"(,"name":)";
  json::encode_string(rule.name, out);
  out += R"(,"tags":{"category":)";
  json::encode_string(rule.category, out);
  out += R"(,"type":)";
  json::encode_string(rule.type, out);
  out += '}';
  if (!rule.on_match.empty()) {
    out += R"(,"on_match":[)";
    for (std::size_t i = 0; i < rule.on_match.size(); ++i) {
      if (i) out += ',';
      json::encode_string(rule.on_match[i], out);
    }
    out += ']';
  }
  out += R"(},"rule_matches":[)";
  out += matches;
  out += "]}";
  return out;
}

}  // namespace

void append_match(std::string& out, const Waf::Impl& waf, const Condition& c, const Hit& hit) {
  std::string value = hit.value;
  std::string highlight = hit.highlight;
  bool redacted = false;
  if (waf.key_obfuscator)
    for (const auto& step : hit.key_path)
      if (const auto* key = std::get_if<std::string>(&step);
          key && RE2::PartialMatch(*key, *waf.key_obfuscator))
        redacted = true;
  if (redacted) {
    value = "<Redacted>";
  } else if (waf.value_obfuscator && RE2::GlobalReplace(&value, *waf.value_obfuscator, "<Redacted>") > 0) {
    redacted = true;
  }
  if (redacted && hit.has_highlight) highlight = "<Redacted>";
  if (!out.empty()) out += ',';
  out += R"({"operator":)";
  json::encode_string(c.op_name, out);
  out += R"(,"operator_value":)";
  json::encode_string(c.operator_value, out);
  out += R"(,"parameters":[{"address":)";
  json::encode_string(hit.input ? std::string_view(hit.input->address_text) : std::string_view(), out);
  out += R"(,"key_path":[)";
  for (std::size_t i = 0; i < hit.key_path.size(); ++i) {
    if (i) out += ',';
    if (const auto* key = std::get_if<std::string>(&hit.key_path[i]))
      json::encode_string(*key, out);
    else
      out += std::to_string(std::get<std::int64_t>(hit.key_path[i]));
  }
  out += R"(],"value":)";
  json::encode_string(value, out);
  out += R"(,"highlight":[)";
  if (hit.has_highlight) json::encode_string(highlight, out);
  out += "]}]}";
}

void report(Inspection& result, const Rule& rule, const std::string& matches) {
  result.triggers.push_back(encode_event(rule, matches));
  result.rule_types.push_back(rule.type);
}

std::string Inspection::event_json() const {
  std::string out = R"({"triggers":[)";
  for (std::size_t i = 0; i < triggers.size(); ++i) {
    if (i) out += ',';
    out += triggers[i];
  }
  out += "]}";
  return out;
}

}  // namespace gw::appsec
