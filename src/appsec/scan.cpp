// Builds the multi-pattern scans (engine.h, AddressScan): one RE2::Set per address over the patterns of
// every regex and phrase condition reading it, and one per transformer chain for the strings the chain
// changes. For benign traffic most chains change nothing (no NUL, no %-escape, no "../"), so a request
// costs about one set match per string instead of one per chain and key path.
#include <algorithm>
#include <optional>

#include "appsec/engine.h"

namespace gw::appsec {

namespace {

RE2::Options set_options() {
  RE2::Options o;
  o.set_log_errors(false);
  // Room for a big set's program and its DFA cache; RE2 resets a full cache (and falls back to slower
  // matching), so this also bounds the memory a hostile input can make a set take.
  o.set_max_mem(16 << 20);
  return o;
}

// Transformers that only ever change a string's case, or commute with lowercasing up to case: where a
// chain holds only these, lowercasing it changes nothing a case-insensitive pattern can tell.
bool case_blind(detail::Transformer t) {
  using T = detail::Transformer;
  switch (t) {
    case T::lowercase:
    case T::remove_nulls:
    case T::compress_whitespace:
    case T::normalize_path:
    case T::normalize_path_win:
    case T::url_decode:
    case T::url_decode_iis:
    case T::shell_unescape:
    case T::remove_comments:
      return true;
    default:
      return false;
  }
}

// For the prefilter only (it may say "maybe" too often, never too rarely): a pattern tested on a
// lowercased string matches the original under (?i), so a chain of case-blind transformers drops its
// lowercase and the pattern becomes case-insensitive. More chains then share the plain string.
struct PrefilterForm {
  std::string pattern;
  std::vector<detail::Transformer> chain;
};
// The pattern for a joined scan (engine.h): multi-line, with the absolute anchors \A and \z made line
// anchors. A pattern that turns flags off ("(?-m)") could defeat that: it is not joined (nullopt).
std::optional<std::string> joined_pattern(std::string_view p) {
  if (p.find("(?-") != std::string_view::npos) return std::nullopt;
  std::string out = "(?m)";
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (p[i] != '\\' || i + 1 == p.size()) {
      out += p[i];
    } else if (p[i + 1] == 'A' || p[i + 1] == 'z') {
      out += p[i + 1] == 'A' ? '^' : '$';
      ++i;
    } else {
      out.append(p.substr(i, 2));  // an escape pair, \\ included, copied whole
      ++i;
    }
  }
  return out;
}

std::optional<PrefilterForm> prefilter_form(const Condition& c, const Input& in) {
  PrefilterForm f{{}, in.transformers};
  bool insensitive = !c.regex->options().case_sensitive();
  if (std::all_of(f.chain.begin(), f.chain.end(), case_blind) &&
      std::find(f.chain.begin(), f.chain.end(), detail::Transformer::lowercase) != f.chain.end()) {
    std::erase(f.chain, detail::Transformer::lowercase);
    insensitive = true;
  }
  auto joined = joined_pattern(c.regex->pattern());
  if (!joined) return std::nullopt;
  f.pattern = (insensitive ? "(?i)" : "") + *joined;  // a set has one Options for all its patterns
  return f;
}

AddressScan& scan_for(Waf::Impl& waf, const Input& in) {
  for (auto& s : waf.scans)
    if (s.address == in.address && s.key_path == in.key_path && s.keys_only == in.keys_only) return s;
  AddressScan& s = waf.scans.emplace_back();
  s.address = in.address;
  s.key_path = in.key_path;
  s.keys_only = in.keys_only;
  s.merged = std::make_unique<RE2::Set>(set_options(), RE2::UNANCHORED);
  s.chains.emplace_back();  // chain 0: no transformer
  return s;
}

std::uint16_t chain_for(AddressScan& s, const std::vector<detail::Transformer>& chain) {
  for (std::size_t i = 0; i < s.chains.size(); ++i)
    if (s.chains[i].transformers == chain) return static_cast<std::uint16_t>(i);
  ChainScan& c = s.chains.emplace_back();
  c.transformers = chain;
  for (auto t : chain) c.triggers |= detail::triggers(t);
  c.set = std::make_unique<RE2::Set>(set_options(), RE2::UNANCHORED);
  return static_cast<std::uint16_t>(s.chains.size() - 1);
}

// Adds one condition input; false when a set refused the pattern (then the condition runs one by one).
bool add_to_scan(Waf::Impl& waf, const Condition& c, const Input& in, std::uint32_t flat) {
  const auto form = prefilter_form(c, in);
  if (!form) return false;
  AddressScan& s = scan_for(waf, in);
  const std::uint16_t chain = chain_for(s, form->chain);
  if (s.merged->Add(form->pattern, nullptr) < 0) return false;
  s.slots.push_back(ScanSlot{flat});
  if (chain != 0) {
    ChainScan& cs = s.chains[chain];
    if (cs.set->Add(form->pattern, nullptr) < 0) return false;
    cs.slots.push_back(flat);
  }
  return true;
}

}  // namespace

void build_scans(Waf::Impl& waf) {
  std::uint32_t flat = 0;
  waf.condition_base.clear();
  std::vector<std::uint8_t> refused;  // per flat condition: a set refused one of its patterns
  for (auto& rule : waf.rules) {
    waf.condition_base.push_back(flat);
    for (auto& c : rule.conditions) {
      for (const auto& in : c.inputs)
        if (in.address != Address::absent) waf.used[static_cast<std::size_t>(in.address)] = true;
      bool ok = (c.op == Op::match_regex || c.op == Op::phrase_match) && !c.negated;
      for (const auto& in : c.inputs)
        if (ok && in.address != Address::absent) ok = add_to_scan(waf, c, in, flat);
      refused.push_back(!ok);
      ++flat;
    }
  }
  waf.condition_count = flat;
  for (auto& s : waf.scans) {
    bool compiled = s.merged->Compile();
    for (auto& chain : s.chains)
      if (chain.set) compiled = chain.set->Compile() && compiled;
    if (compiled) continue;
    for (const auto& slot : s.slots) refused[slot.condition] = 1;  // too big for one automaton
    s.merged.reset();
  }
  flat = 0;
  for (auto& rule : waf.rules)
    for (auto& c : rule.conditions) {
      const bool regex = (c.op == Op::match_regex || c.op == Op::phrase_match) && !c.negated;
      c.prefiltered = regex && !refused[flat];
      ++flat;
    }
  for (const auto& x : waf.exclusions)
    for (const auto& c : x.conditions)
      for (const auto& in : c.inputs)
        if (in.address != Address::absent) waf.used[static_cast<std::size_t>(in.address)] = true;
}

}  // namespace gw::appsec
