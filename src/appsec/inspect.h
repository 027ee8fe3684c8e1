// Private to the appsec module: one request's addresses and their evaluation.
#pragma once

#include <array>
#include <optional>

#include "appsec/engine.h"

namespace gw::appsec {

struct Addresses {
  std::array<std::optional<json::Value>, kAddressCount> values;
  std::string client_ip;
  const json::Value* get(Address a) const {
    if (a == Address::absent) return nullptr;
    const auto& v = values[static_cast<std::size_t>(a)];
    return v ? &*v : nullptr;
  }
};

// What a condition matched: the input, where in it, the value tested and the part that matched.
struct Hit {
  const Input* input = nullptr;
  std::vector<PathElement> key_path;
  std::string value;
  std::string highlight;
  bool has_highlight = false;
};

// events.cpp: one rule_matches entry (obfuscated) appended to `out`; a triggered rule's event.
void append_match(std::string& out, const Waf::Impl& waf, const Condition& c, const Hit& hit);
void report(Inspection& result, const Rule& rule, const std::string& matches);

// addresses.cpp
void collect_addresses(const RequestView& request, const Waf::Impl& waf, Addresses& out);
json::Value parse_query(std::string_view target);
std::optional<json::Value> parse_body(std::string_view body, std::string_view content_type);

}  // namespace gw::appsec
