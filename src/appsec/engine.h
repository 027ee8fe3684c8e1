// Private to the appsec module: a compiled ruleset (compile.cpp builds it, inspect.cpp runs it).
#pragma once

#include <re2/re2.h>
#include <re2/set.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

#include "appsec/appsec.h"
#include "appsec/detail.h"
#include "json/json.h"

namespace gw::appsec {

// The addresses a proxy has (docs/datadog-appsec.md section 5); any other name is `absent`: rules may
// name it (graphql, grpc, usr.id), it just never holds a value here.
enum class Address : std::uint8_t {
  uri_raw,
  method,
  headers,
  cookies,
  query,
  path_params,
  body,
  client_ip,
  response_status,
  absent,
};
inline constexpr std::size_t kAddressCount = 9;  // the ones with values
std::string_view address_name(Address a);

using PathElement = std::variant<std::string, std::int64_t>;

struct Input {
  Address address = Address::absent;
  std::string address_text;  // as written, for events (absent addresses never match)
  std::vector<PathElement> key_path;
  std::vector<detail::Transformer> transformers;
  detail::TextTraits triggers = 0;  // what in a string makes one of the transformers act
  bool keys_only = false;
};

enum class Op : std::uint8_t {
  match_regex,
  phrase_match,
  exact_match,
  ip_match,
  equals,
  exists,
  is_sqli,
  is_xss
};

// An address range: both bounds as 16-byte IPv6 (IPv4 mapped to ::ffff:a.b.c.d).
struct IpRange {
  std::array<unsigned char, 16> low{}, high{};
};

// rules_data entries: value -> expiration (unix seconds, 0 = never).
struct DataSet {
  std::string type;                                       // ip_with_expiration, data_with_expiration
  std::unordered_map<std::string, std::uint64_t> values;  // exact_match
  std::vector<std::pair<IpRange, std::uint64_t>> ranges;  // ip_match
};

struct Condition {
  Op op = Op::match_regex;
  bool negated = false;
  std::string op_name;  // as written, for events ("match_regex", "!match_regex", ...)
  std::vector<Input> inputs;
  bool response_phase = false;  // every input is server.response.status
  // match_regex / phrase_match: one RE2 (phrases are an alternation of quoted literals).
  std::unique_ptr<RE2> regex;
  std::string operator_value;  // the regex as written (events); empty for phrases
  std::size_t min_length = 0;
  // exact_match / ip_match: a list, or a rules_data id resolved at inspection.
  std::unordered_set<std::string> exact;
  std::vector<IpRange> ranges;
  std::string data_id;
  // equals
  json::Value expected;
  std::string expected_type;
  double delta = 0;
  // Every input that can hold a value is in a scan (AddressScan), so the scans' pass says whether this
  // condition needs evaluating at all.
  bool prefiltered = false;
};

struct Rule {
  std::string id, name, type, category;
  std::vector<Condition> conditions;
  std::vector<std::string> on_match;
  std::vector<std::pair<std::string, std::string>> tags;  // all tags, for exclusion targets
  std::optional<Action> action;                           // resolved blocking action, if any
  bool has_response_phase = false;
};

// Rules filters and input filters from `exclusions`.
struct Exclusion {
  std::string id;
  std::vector<std::string> rule_ids;                                          // targets by id
  std::vector<std::vector<std::pair<std::string, std::string>>> tag_targets;  // targets by tags (all equal)
  std::vector<Condition> conditions;
  enum class Mode : std::uint8_t { bypass, monitor, action } mode = Mode::bypass;
  std::optional<Action> action;
  std::vector<Input> inputs;  // non-empty: an input filter
  bool targets(const Rule& r) const;
};

// The multi-pattern pass: one scan per input spec (address, key path, keys or values), over every
// string it holds at once: the strings are joined with '\n' and matched in multi-line mode, so ^ and $
// still match at each string's ends and a scan costs one RE2::Set match, not one per string (their
// fixed cost dominated on short header values). The joined text may match where no single string does
// (a pattern spanning the separator): that only makes a condition a candidate, never drops one. A
// chain of transformers gets its own set, run on the strings it changes; strings it leaves alone are
// covered by the scan's set. Candidates are then evaluated exactly, one by one.
struct ScanSlot {
  std::uint32_t condition = 0;  // flat condition index
};
struct ChainScan {
  std::vector<detail::Transformer> transformers;
  detail::TextTraits triggers = 0;   // what in a string makes one of them act
  std::unique_ptr<RE2::Set> set;     // this chain's patterns
  std::vector<std::uint32_t> slots;  // set slot -> flat condition index
};
struct AddressScan {
  Address address = Address::absent;
  std::vector<PathElement> key_path;
  bool keys_only = false;
  std::unique_ptr<RE2::Set> merged;  // every pattern of the scan, for the strings as they are
  std::vector<ScanSlot> slots;       // merged set slot -> what it stands for
  std::vector<ChainScan> chains;     // chains[0]: no transformer (no set of its own)
};

struct Waf::Impl {
  Settings settings;
  RulesetInfo info;
  std::vector<Rule> rules;  // custom rules first, then base rules (libddwaf's precedence)
  std::vector<Exclusion> exclusions;
  std::unordered_map<std::string, DataSet> data;
  std::unordered_map<std::string, Action> actions;
  std::vector<AddressScan> scans;
  std::size_t condition_count = 0;            // flat index space for candidate bits
  std::vector<std::uint32_t> condition_base;  // rule index -> first flat condition index
  std::array<bool, kAddressCount> used{};     // addresses some rule or filter reads
  std::unique_ptr<RE2> key_obfuscator, value_obfuscator;
};

// scan.cpp: builds waf.scans and marks the conditions they prefilter; records the addresses used.
void build_scans(Waf::Impl& waf);

// compile.cpp: condition parsing, shared with exclusions. Throws std::string (the error message).
Condition compile_condition(const json::Value& c, const std::vector<detail::Transformer>& rule_transformers,
                            bool rule_keys_only);
// A transformers list (keys_only / values_only set `keys_only`); an address or CIDR as a range. The
// conditions, rules and rules_data all parse these the same way.
std::vector<detail::Transformer> parse_transformers(const json::Value& list, bool& keys_only);
std::optional<IpRange> parse_ip_range(std::string_view text);

}  // namespace gw::appsec
