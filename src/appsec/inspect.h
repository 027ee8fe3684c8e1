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

// addresses.cpp
void collect_addresses(const RequestView& request, const Waf::Impl& waf, Addresses& out);
json::Value parse_query(std::string_view target);
std::optional<json::Value> parse_body(std::string_view body, std::string_view content_type);

}  // namespace gw::appsec
