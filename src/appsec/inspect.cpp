// Runs a compiled ruleset over one request (docs/datadog-appsec.md sections 2, 3, 6, 10): a first pass
// of every scan group's RE2::Set over the strings it reads marks the regex conditions that could
// match; then rules are evaluated in order, each condition walking its inputs only when it may match.
// Walks are capped (depth, items, string length) and the whole run has a time budget.
#include "appsec/inspect.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <ctime>

namespace gw::appsec {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kMaxDepth = 20;     // libddwaf's default limits
constexpr std::size_t kMaxItems = 256;    // per container
constexpr std::size_t kMaxString = 4096;  // bytes of one string tested

// The value at `path` below `root`, or null.
const json::Value* descend(const json::Value* v, const std::vector<PathElement>& path) {
  for (const auto& step : path) {
    if (!v) return nullptr;
    if (const auto* key = std::get_if<std::string>(&step)) {
      v = v->is_object() ? v->find(*key) : nullptr;
    } else if (v->is_array()) {
      const auto n = static_cast<std::int64_t>(v->as_array().size());
      std::int64_t i = std::get<std::int64_t>(step);
      if (i < 0) i += n;
      v = i >= 0 && i < n ? &v->as_array()[static_cast<std::size_t>(i)] : nullptr;
    } else {
      return nullptr;
    }
  }
  return v;
}

bool parse_ip(std::string_view text, std::array<unsigned char, 16>& out) {
  if (text.size() > 64) return false;
  char buf[65];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = 0;
  in_addr v4;
  if (inet_pton(AF_INET, buf, &v4) == 1) {
    out.fill(0);
    out[10] = out[11] = 0xff;
    std::memcpy(&out[12], &v4, 4);
    return true;
  }
  return inet_pton(AF_INET6, buf, out.data()) == 1;
}

bool in_range(const std::array<unsigned char, 16>& ip, const IpRange& r) {
  return ip >= r.low && ip <= r.high;
}

bool live(std::uint64_t expiration) {
  return expiration == 0 || expiration > static_cast<std::uint64_t>(std::time(nullptr));
}

class Run {
 public:
  Run(const Waf::Impl& waf, const Addresses& addresses, Clock::time_point deadline)
      : waf_(waf), addresses_(addresses), deadline_(deadline) {}

  bool timed_out() const { return timed_out_; }

  // Marks the conditions the scans (engine.h, AddressScan) say could match.
  void prefilter() {
    candidate_.assign(waf_.condition_count, 0);
    for (const auto& s : waf_.scans) {
      if (!s.merged || out_of_time()) continue;
      const json::Value* v = descend(addresses_.get(s.address), s.key_path);
      if (!v) continue;
      joined_.resize(std::max(joined_.size(), s.chains.size()));
      for (auto& j : joined_) j.clear();  // keeps their storage for the next scan
      Input raw;                          // walk the strings as they are; the chains' versions are made below
      raw.keys_only = s.keys_only;
      path_.clear();
      walk(*v, raw, 0, [&](const json::Value& scalar, std::string_view text) {
        if (scalar.is_string()) join(s, text);
        return false;
      });
      if (joined_[0].empty()) continue;  // no string here (an empty object, numbers only)
      if (!match_set(*s.merged, joined_[0]))
        for (const auto& slot : s.slots) candidate_[slot.condition] = 1;  // undecided: all of them
      for (int hit : hits_) candidate_[s.slots[static_cast<std::size_t>(hit)].condition] = 1;
      for (std::size_t k = 1; k < s.chains.size(); ++k) {
        if (joined_[k].empty()) continue;
        const ChainScan& chain = s.chains[k];
        if (!match_set(*chain.set, joined_[k]))
          for (auto flat : chain.slots) candidate_[flat] = 1;
        for (int hit : hits_) candidate_[chain.slots[static_cast<std::size_t>(hit)]] = 1;
      }
    }
  }

  // Evaluates one condition; fills `hit` with what matched. `flat`: its candidate bit (or -1: none).
  bool condition(const Condition& c, long flat, const std::vector<const Input*>* excluded, Hit& hit) {
    if (flat >= 0 && c.prefiltered && !candidate_[static_cast<std::size_t>(flat)]) return false;
    bool present = false;
    for (const auto& in : c.inputs) {
      if (is_excluded(in, in.key_path, excluded)) continue;
      const json::Value* v = descend(addresses_.get(in.address), in.key_path);
      if (!v) continue;
      present = true;
      if (c.op == Op::exists) {
        if (c.negated) return false;
        hit = Hit{&in, in.key_path, {}, {}, false};
        return true;
      }
      path_.clear();
      bool matched = false;
      bool first = true;
      walk(*v, in, 0, [&](const json::Value& scalar, std::string_view text) {
        if (c.negated && first) {  // a negation reports the value it tested
          hit = Hit{&in, current_path(in), std::string(text), {}, false};
          first = false;
        }
        if (excluded && is_excluded(in, current_path(in), excluded)) return false;
        std::string_view highlight;
        bool has_highlight = false;
        if (!test(c, scalar, text, highlight, has_highlight)) return false;
        matched = true;
        if (!c.negated)
          hit = Hit{&in, current_path(in), std::string(text), std::string(highlight), has_highlight};
        return true;
      });
      if (matched) return !c.negated;
    }
    if (c.op == Op::exists) return c.negated && !present;
    return c.negated && present && hit.input;
  }

  bool out_of_time() {
    if (!timed_out_ && (++steps_ & 15) == 0 && Clock::now() > deadline_) timed_out_ = true;
    return timed_out_;
  }

 private:
  struct Step {
    const std::string* key = nullptr;
    std::int64_t index = 0;
  };

  std::vector<PathElement> current_path(const Input& in) const {
    std::vector<PathElement> out = in.key_path;
    for (const auto& s : path_) {
      if (s.key)
        out.emplace_back(*s.key);
      else
        out.emplace_back(s.index);
    }
    return out;
  }

  // Adds one string to the scan's joined texts: as it is, and as each chain that changes it makes it.
  void join(const AddressScan& s, std::string_view text) {
    joined_[0].append(text).push_back('\n');
    if (s.chains.size() < 2) return;
    const detail::TextTraits traits = detail::traits_of(text);
    for (std::size_t k = 1; k < s.chains.size(); ++k) {
      const ChainScan& chain = s.chains[k];
      if (!(traits & chain.triggers)) continue;  // left alone: the scan's own set covers it
      scratch_.assign(text);
      for (auto t : chain.transformers) detail::transform(t, scratch_);
      if (scratch_ != text) joined_[k].append(scratch_).push_back('\n');
    }
  }

  // Fills hits_; false when the set could not decide (its automaton ran out of memory).
  bool match_set(const RE2::Set& set, std::string_view text) {
    hits_.clear();
    RE2::Set::ErrorInfo error{};
    return set.Match(text, &hits_, &error) || error.kind == RE2::Set::kNoError;
  }

  static bool is_excluded(const Input& in, const std::vector<PathElement>& path,
                          const std::vector<const Input*>* excluded) {
    if (!excluded) return false;
    for (const Input* x : *excluded)
      if (x->address == in.address && x->key_path.size() <= path.size() &&
          std::equal(x->key_path.begin(), x->key_path.end(), path.begin()))
        return true;
    return false;
  }

  // Calls f(scalar, text) for every scalar (or key) below v; f returns true to stop. Returns true if
  // stopped.
  template <class F>
  bool walk(const json::Value& v, const Input& in, std::size_t depth, F&& f) {
    if (out_of_time()) return true;
    switch (v.kind()) {
      case json::Kind::Object: {
        if (depth >= kMaxDepth) return false;
        std::size_t n = 0;
        for (const auto& [key, child] : v.as_object()) {
          if (n++ >= kMaxItems) break;
          path_.push_back(Step{&key, 0});
          bool stop = false;
          if (in.keys_only) {
            stop = offer(json::Value(key), in, f);
            if (!stop && (child.is_object() || child.is_array())) stop = walk(child, in, depth + 1, f);
          } else {
            stop = walk(child, in, depth + 1, f);
          }
          path_.pop_back();
          if (stop) return true;
        }
        return false;
      }
      case json::Kind::Array: {
        if (depth >= kMaxDepth) return false;
        std::size_t n = 0;
        for (const auto& child : v.as_array()) {
          if (n >= kMaxItems) break;
          path_.push_back(Step{nullptr, static_cast<std::int64_t>(n++)});
          const bool stop = walk(child, in, depth + 1, f);
          path_.pop_back();
          if (stop) return true;
        }
        return false;
      }
      default:
        return in.keys_only ? false : offer(v, in, f);
    }
  }

  template <class F>
  bool offer(const json::Value& scalar, const Input& in, F&& f) {
    std::string_view text;
    if (scalar.is_string())
      text = scalar.as_string();
    else if (scalar.is_number())
      text = scalar.number_text();
    else if (scalar.is_bool())
      text = scalar.as_bool() ? "true" : "false";
    else
      return false;
    text = text.substr(0, kMaxString);
    if (in.transformers.empty() || !scalar.is_string() || !(detail::traits_of(text) & in.triggers))
      return f(scalar, text);  // no transformer would change it
    scratch_.assign(text);
    for (auto t : in.transformers) detail::transform(t, scratch_);
    return f(scalar, std::string_view(scratch_));
  }

  bool test(const Condition& c, const json::Value& scalar, std::string_view text, std::string_view& highlight,
            bool& has_highlight) {
    switch (c.op) {
      case Op::match_regex:
      case Op::phrase_match: {
        if (!scalar.is_string() || text.size() < c.min_length) return false;
        re2::StringPiece m;
        if (!c.regex->Match(text, 0, text.size(), RE2::UNANCHORED, &m, 1)) return false;
        highlight = std::string_view(m.data(), m.size());
        has_highlight = true;
        return true;
      }
      case Op::exact_match: {
        if (!scalar.is_string()) return false;
        highlight = text;
        has_highlight = true;
        if (c.data_id.empty()) return c.exact.count(std::string(text)) > 0;
        auto set = waf_.data.find(c.data_id);
        if (set == waf_.data.end()) return false;
        auto it = set->second.values.find(std::string(text));
        return it != set->second.values.end() && live(it->second);
      }
      case Op::ip_match: {
        std::array<unsigned char, 16> ip;
        if (!scalar.is_string() || !parse_ip(text, ip)) return false;
        highlight = text;
        has_highlight = true;
        if (c.data_id.empty())
          return std::any_of(c.ranges.begin(), c.ranges.end(),
                             [&](const IpRange& r) { return in_range(ip, r); });
        auto set = waf_.data.find(c.data_id);
        if (set == waf_.data.end()) return false;
        for (const auto& [r, expiration] : set->second.ranges)
          if (in_range(ip, r) && live(expiration)) return true;
        return false;
      }
      case Op::equals:
        return equals(c, scalar, text);
      case Op::is_sqli: {
        if (!scalar.is_string()) return false;
        auto fingerprint = detail::sqli_fingerprint(text);
        if (!fingerprint) return false;
        fingerprint_ = *fingerprint;
        highlight = fingerprint_;
        has_highlight = true;
        return true;
      }
      case Op::is_xss:
        return scalar.is_string() && detail::looks_like_xss(text);
      case Op::exists:
        return true;
    }
    return false;
  }

  static bool equals(const Condition& c, const json::Value& scalar, std::string_view text) {
    const json::Value& want = c.expected;
    if (c.expected_type == "string")
      return scalar.is_string() && want.is_string() && text == want.as_string();
    if (c.expected_type == "boolean")
      return scalar.is_bool() && want.is_bool() && scalar.as_bool() == want.as_bool();
    if (!scalar.is_number() || !want.is_number()) return false;
    if (c.expected_type == "float") {
      const double a = std::strtod(scalar.number_text().c_str(), nullptr);
      const double b = std::strtod(want.number_text().c_str(), nullptr);
      return std::abs(a - b) <= (c.delta > 0 ? c.delta : 0.01);
    }
    return scalar.number_text() == want.number_text();
  }

  const Waf::Impl& waf_;
  const Addresses& addresses_;
  Clock::time_point deadline_;
  bool timed_out_ = false;
  unsigned steps_ = 0;
  std::vector<Step> path_;
  std::string scratch_, fingerprint_;
  std::vector<std::uint8_t> candidate_;
  std::vector<std::string> joined_;  // per chain of the current scan
  std::vector<int> hits_;
};

}  // namespace

Inspection Waf::inspect_request(const RequestView& request) const {
  const Impl& waf = *impl_;
  const auto start = Clock::now();
  Inspection result;
  Addresses addresses;
  result.client_ip = resolve_client_ip(request.headers, request.peer_ip, waf.settings.client_ip_header);
  addresses.client_ip = result.client_ip;
  collect_addresses(request, waf, addresses);
  Run run(waf, addresses, start + waf.settings.waf_timeout);

  // Exclusions whose conditions hold: rules to bypass or monitor, inputs to leave out.
  enum Mode : std::uint8_t { normal, bypass, monitor, override_action };
  std::vector<std::uint8_t> mode;
  std::vector<const Action*> override;
  std::vector<std::vector<const Input*>> excluded;
  if (!waf.exclusions.empty()) {
    mode.assign(waf.rules.size(), normal);
    override.assign(waf.rules.size(), nullptr);
    excluded.resize(waf.rules.size());
    for (const auto& x : waf.exclusions) {
      bool holds = true;
      for (const auto& c : x.conditions) {
        Hit ignored;
        holds = holds && run.condition(c, -1, nullptr, ignored);
      }
      if (!holds) continue;
      for (std::size_t i = 0; i < waf.rules.size(); ++i) {
        if (!x.targets(waf.rules[i])) continue;
        if (!x.inputs.empty()) {
          for (const auto& in : x.inputs) excluded[i].push_back(&in);
        } else if (x.mode == Exclusion::Mode::bypass) {
          mode[i] = bypass;
        } else if (mode[i] != bypass) {
          mode[i] = x.mode == Exclusion::Mode::monitor ? monitor : override_action;
          if (x.action) override[i] = &*x.action;
        }
      }
    }
  }

  run.prefilter();
  for (std::size_t i = 0; i < waf.rules.size() && !run.out_of_time(); ++i) {
    const Rule& rule = waf.rules[i];
    if (!mode.empty() && mode[i] == bypass) continue;
    const auto* skip = excluded.empty() || excluded[i].empty() ? nullptr : &excluded[i];
    std::string matches;
    bool holds = true;
    for (std::size_t k = 0; k < rule.conditions.size() && holds; ++k) {
      const Condition& c = rule.conditions[k];
      if (c.response_phase) continue;
      Hit hit;
      holds = run.condition(c, static_cast<long>(waf.condition_base[i] + k), skip, hit);
      if (holds) append_match(matches, waf, c, hit);
    }
    if (!holds) continue;
    if (rule.has_response_phase) {  // the response-status conditions come last in its rule_matches
      result.pending.emplace_back(static_cast<std::uint32_t>(i), std::move(matches));
      continue;
    }
    report(result, rule, matches);
    const Action* action = rule.action ? &*rule.action : nullptr;
    if (!mode.empty() && mode[i] == monitor) action = nullptr;
    if (!mode.empty() && override[i]) action = override[i];
    if (action && action->kind != Action::Kind::none) {
      result.action = *action;
      break;  // the request is answered here: later rules would not change that
    }
  }
  result.timed_out = run.timed_out();
  result.duration_ns = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count());
  return result;
}

void Waf::inspect_response(Inspection& result, unsigned status) const {
  if (result.pending.empty()) return;
  const Impl& waf = *impl_;
  const auto start = Clock::now();
  Addresses addresses;
  addresses.values[static_cast<std::size_t>(Address::response_status)] = json::Value(std::to_string(status));
  Run run(waf, addresses, start + waf.settings.waf_timeout);
  for (auto& [index, matches] : result.pending) {
    const Rule& rule = waf.rules[index];
    bool holds = true;
    for (std::size_t k = 0; k < rule.conditions.size() && holds; ++k) {
      const Condition& c = rule.conditions[k];
      if (!c.response_phase) continue;
      Hit hit;
      holds = run.condition(c, -1, nullptr, hit);
      if (holds) append_match(matches, waf, c, hit);
    }
    if (holds) report(result, rule, matches);
  }
  result.pending.clear();
  result.timed_out = result.timed_out || run.timed_out();
  result.duration_ns += static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count());
}

}  // namespace gw::appsec
