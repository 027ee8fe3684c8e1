// Compiles a ruleset in libddwaf's schema 2.x (docs/datadog-appsec.md sections 2-4, 9, 10). A document
// that is not a ruleset refuses to load; a rule that cannot be compiled is skipped and counted, as
// libddwaf does, so Datadog's newer rulesets load with the rules this WAF understands.
#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <ctime>

#include "appsec/engine.h"

namespace gw::appsec {

namespace {

const std::string* string_member(const json::Value& v, std::string_view key) {
  const json::Value* m = v.find(key);
  return m && m->is_string() ? &m->as_string() : nullptr;
}

Address address_named(std::string_view name) {
  for (std::size_t i = 0; i < kAddressCount; ++i)
    if (address_name(static_cast<Address>(i)) == name) return static_cast<Address>(i);
  return Address::absent;
}

std::vector<PathElement> parse_key_path(const json::Value& kp) {
  if (!kp.is_array()) throw std::string("key_path must be an array");
  std::vector<PathElement> out;
  for (const auto& e : kp.as_array()) {
    if (e.is_string()) {
      out.emplace_back(e.as_string());
    } else if (e.is_number()) {
      std::int64_t i = 0;
      const std::string& t = e.number_text();
      if (std::from_chars(t.data(), t.data() + t.size(), i).ec != std::errc())
        throw std::string("bad key_path index");
      out.emplace_back(i);
    } else {
      throw std::string("key_path elements must be strings or integers");
    }
  }
  if (out.size() > 20) throw std::string("key_path deeper than 20");
  return out;
}

std::unique_ptr<RE2> compile_regex(const std::string& pattern, bool case_sensitive) {
  RE2::Options o;
  o.set_case_sensitive(case_sensitive);
  o.set_log_errors(false);
  o.set_max_mem(8 << 20);
  auto re = std::make_unique<RE2>(pattern, o);
  if (!re->ok()) throw "invalid regular expression: " + re->error();
  return re;
}

// One alternation of quoted phrases; \b where a phrase starts or ends with a word character and the
// rule asks for word boundaries (libddwaf's enforce_word_boundary).
std::string phrase_pattern(const json::Value& list, bool word_boundary) {
  std::string pattern;
  for (const auto& p : list.as_array()) {
    if (!p.is_string() || p.as_string().empty())
      throw std::string("phrase_match list entries must be non-empty strings");
    const std::string& s = p.as_string();
    auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
    if (!pattern.empty()) pattern += '|';
    if (word_boundary && word(s.front())) pattern += "\\b";
    pattern += RE2::QuoteMeta(s);
    if (word_boundary && word(s.back())) pattern += "\\b";
  }
  if (pattern.empty()) throw std::string("phrase_match list is empty");
  return pattern;
}

void compile_operator(Condition& c, const json::Value& params) {
  const json::Value* options = params.find("options");
  auto option = [&](std::string_view key) {
    return options && options->is_object() ? options->find(key) : nullptr;
  };
  switch (c.op) {
    case Op::match_regex: {
      const std::string* regex = string_member(params, "regex");
      if (!regex) throw std::string("match_regex needs a string 'regex'");
      const json::Value* cs = option("case_sensitive");
      const bool case_sensitive = cs && cs->is_bool() && cs->as_bool();
      if (const json::Value* ml = option("min_length"); ml && ml->is_number())
        std::from_chars(ml->number_text().data(), ml->number_text().data() + ml->number_text().size(),
                        c.min_length);
      c.regex = compile_regex(*regex, case_sensitive);
      c.operator_value = *regex;
      return;
    }
    case Op::phrase_match: {
      const json::Value* list = params.find("list");
      if (!list || !list->is_array()) throw std::string("phrase_match needs a 'list' array");
      const json::Value* wb = option("enforce_word_boundary");
      c.regex = compile_regex(phrase_pattern(*list, wb && wb->is_bool() && wb->as_bool()), true);
      return;
    }
    case Op::exact_match:
    case Op::ip_match: {
      if (const std::string* data = string_member(params, "data")) {
        c.data_id = *data;
        return;
      }
      const json::Value* list = params.find("list");
      if (!list || !list->is_array()) throw std::string(c.op_name) + " needs a 'list' array or a 'data' id";
      for (const auto& v : list->as_array()) {
        if (!v.is_string()) throw std::string(c.op_name) + " list entries must be strings";
        if (c.op == Op::exact_match) {
          c.exact.insert(v.as_string());
        } else if (auto r = parse_ip_range(v.as_string())) {
          c.ranges.push_back(*r);
        } else {
          throw "invalid IP address or CIDR: '" + v.as_string() + "'";
        }
      }
      return;
    }
    case Op::equals: {
      const std::string* type = string_member(params, "type");
      const json::Value* value = params.find("value");
      if (!type || !value) throw std::string("equals needs 'type' and 'value'");
      if (*type != "string" && *type != "boolean" && *type != "unsigned" && *type != "signed" &&
          *type != "float")
        throw "equals: unknown type '" + *type + "'";
      c.expected_type = *type;
      c.expected = *value;
      if (const json::Value* d = params.find("delta"); d && d->is_number())
        c.delta = std::stod(d->number_text());
      return;
    }
    case Op::exists:
    case Op::is_sqli:
    case Op::is_xss:
      return;
  }
}

std::optional<Op> op_named(std::string_view name) {
  static const std::pair<std::string_view, Op> kOps[] = {
      {"match_regex", Op::match_regex}, {"phrase_match", Op::phrase_match},
      {"exact_match", Op::exact_match}, {"ip_match", Op::ip_match},
      {"equals", Op::equals},           {"exists", Op::exists},
      {"is_sqli", Op::is_sqli},         {"is_xss", Op::is_xss}};
  for (auto [n, op] : kOps)
    if (n == name) return op;
  return std::nullopt;
}

}  // namespace

// Transformers list; keys_only / values_only choose what is walked.
std::vector<detail::Transformer> parse_transformers(const json::Value& list, bool& keys_only) {
  if (!list.is_array()) throw std::string("transformers must be an array");
  std::vector<detail::Transformer> out;
  for (const auto& t : list.as_array()) {
    if (!t.is_string()) throw std::string("transformer names must be strings");
    const std::string& name = t.as_string();
    if (name == "keys_only") {
      keys_only = true;
    } else if (name == "values_only") {
      keys_only = false;
    } else if (auto tr = detail::transformer_named(name)) {
      out.push_back(*tr);
    } else {
      throw "unknown transformer: '" + name + "'";
    }
  }
  if (out.size() > 10) throw std::string("more than 10 transformers");
  return out;
}

std::optional<IpRange> parse_ip_range(std::string_view text) {
  IpRange r;
  std::string addr(text.substr(0, text.find('/')));
  int bits = -1;
  if (addr.size() < text.size()) {
    std::string_view b = text.substr(addr.size() + 1);
    auto [p, ec] = std::from_chars(b.data(), b.data() + b.size(), bits);
    if (ec != std::errc() || p != b.data() + b.size() || bits < 0) return std::nullopt;
  }
  in_addr v4;
  if (inet_pton(AF_INET, addr.c_str(), &v4) == 1) {
    if (bits > 32) return std::nullopt;
    r.low[10] = r.low[11] = 0xff;
    std::memcpy(&r.low[12], &v4, 4);
    bits = bits < 0 ? 128 : bits + 96;
  } else if (inet_pton(AF_INET6, addr.c_str(), r.low.data()) == 1) {
    if (bits > 128) return std::nullopt;
    if (bits < 0) bits = 128;
  } else {
    return std::nullopt;
  }
  r.high = r.low;
  for (int i = bits; i < 128; ++i) {
    const auto mask = static_cast<unsigned char>(0x80u >> (i % 8));
    r.low[i / 8] &= static_cast<unsigned char>(~mask);
    r.high[i / 8] |= mask;
  }
  return r;
}

std::string_view address_name(Address a) {
  static constexpr std::string_view kNames[] = {"server.request.uri.raw",
                                                "server.request.method",
                                                "server.request.headers.no_cookies",
                                                "server.request.cookies",
                                                "server.request.query",
                                                "server.request.path_params",
                                                "server.request.body",
                                                "http.client_ip",
                                                "server.response.status",
                                                ""};
  return kNames[static_cast<std::size_t>(a)];
}

Condition compile_condition(const json::Value& c, const std::vector<detail::Transformer>& rule_transformers,
                            bool rule_keys_only) {
  if (!c.is_object()) throw std::string("conditions must be objects");
  const std::string* op_text = string_member(c, "operator");
  if (!op_text) throw std::string("condition without an 'operator'");
  Condition out;
  out.op_name = *op_text;
  std::string_view name = *op_text;
  if (!name.empty() && name[0] == '!') {
    out.negated = true;
    name.remove_prefix(1);
  }
  auto op = op_named(name);
  if (!op) throw "unknown operator: '" + *op_text + "'";
  out.op = *op;
  if (out.negated && (out.op == Op::is_sqli || out.op == Op::is_xss))
    throw "unknown operator: '" + *op_text + "'";
  const json::Value* params = c.find("parameters");
  if (!params || !params->is_object()) throw std::string("condition without 'parameters'");
  const json::Value* inputs = params->find("inputs");
  if (!inputs || !inputs->is_array() || inputs->as_array().empty())
    throw std::string("condition without 'inputs'");
  out.response_phase = true;
  for (const auto& in : inputs->as_array()) {
    const std::string* address = in.is_object() ? string_member(in, "address") : nullptr;
    if (!address) throw std::string("input without an 'address'");
    Input input;
    input.address_text = *address;
    input.address = address_named(*address);
    if (const json::Value* kp = in.find("key_path")) input.key_path = parse_key_path(*kp);
    input.keys_only = rule_keys_only;
    if (const json::Value* t = in.find("transformers"))
      input.transformers = parse_transformers(*t, input.keys_only);
    else
      input.transformers = rule_transformers;
    for (auto t : input.transformers) input.triggers |= detail::triggers(t);
    if (input.address != Address::response_status) out.response_phase = false;
    out.inputs.push_back(std::move(input));
  }
  compile_operator(out, *params);
  return out;
}

}  // namespace gw::appsec
