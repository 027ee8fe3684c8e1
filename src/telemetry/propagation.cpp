// Datadog (x-datadog-*) and W3C (traceparent/tracestate) extraction and injection, following the
// behaviour of dd-trace-cpp summarised in reference/datadog-compat.md §4c.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>

#include "telemetry/tracing.h"

namespace gw::telemetry {

const char* real_env(const char* name) { return std::getenv(name); }

std::string hex16(std::uint64_t v) {
  static const char* d = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) s[static_cast<std::size_t>(i)] = d[v & 15];
  return s;
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

template <class T>
bool parse_int(std::string_view s, T& out, int base = 10) {
  s = trim(s);
  if (s.empty()) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), out, base);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool parse_hex(std::string_view s, std::uint64_t& out) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;  // W3C: lowercase only
  return parse_int(s, out, 16);
}

template <class F>
void split(std::string_view s, char sep, F&& f) {
  while (true) {
    auto p = s.find(sep);
    f(s.substr(0, p));
    if (p == std::string_view::npos) return;
    s.remove_prefix(p + 1);
  }
}

std::optional<TraceContext> extract_datadog(const PropagationConfig& cfg, const PropagationHeaders& h) {
  TraceContext c;
  if (!parse_int(h.x_datadog_trace_id, c.trace_id_low) || c.trace_id_low == 0) return std::nullopt;
  if (!h.x_datadog_parent_id.empty() && !parse_int(h.x_datadog_parent_id, c.parent_id)) return std::nullopt;
  int p;
  if (parse_int(h.x_datadog_sampling_priority, p)) c.sampling_priority = p;
  c.origin = std::string(trim(h.x_datadog_origin));
  if (!h.x_datadog_tags.empty() && h.x_datadog_tags.size() <= cfg.tags_max_length) {
    split(h.x_datadog_tags, ',', [&](std::string_view kv) {
      kv = trim(kv);
      auto eq = kv.find('=');
      if (eq == std::string_view::npos || kv.substr(0, 6) != "_dd.p.") return;
      auto k = kv.substr(0, eq), v = kv.substr(eq + 1);
      if (k == "_dd.p.tid") {
        std::uint64_t hi;
        if (v.size() == 16 && parse_hex(v, hi)) c.trace_id_high = hi;
      } else {
        c.propagation_tags.emplace_back(k, v);
      }
    });
  }
  return c;
}

std::optional<TraceContext> extract_w3c(const PropagationHeaders& h) {
  std::string_view tp = trim(h.traceparent);
  // version-traceid-parentid-flags; future versions may append "-..." fields.
  if (tp.size() < 55 || (tp.size() > 55 && tp[55] != '-') || tp[2] != '-' || tp[35] != '-' || tp[52] != '-')
    return std::nullopt;
  if (tp.substr(0, 2) == "ff" || (tp.substr(0, 2) == "00" && tp.size() != 55)) return std::nullopt;
  TraceContext c;
  std::uint64_t flags;
  if (!parse_hex(tp.substr(3, 16), c.trace_id_high) || !parse_hex(tp.substr(19, 16), c.trace_id_low) ||
      !parse_hex(tp.substr(36, 16), c.parent_id) || !parse_hex(tp.substr(53, 2), flags))
    return std::nullopt;
  if (!c.valid() || c.parent_id == 0) return std::nullopt;
  const bool sampled = flags & 1;
  std::optional<int> dd_priority;
  c.datadog_parent_id = "0000000000000000";
  std::string other;
  split(h.tracestate, ',', [&](std::string_view member) {
    member = trim(member);
    if (member.empty()) return;
    if (member.substr(0, 3) != "dd=") {
      if (!other.empty()) other += ',';
      other += member;
      return;
    }
    split(member.substr(3), ';', [&](std::string_view kv) {
      auto colon = kv.find(':');
      if (colon == std::string_view::npos) return;
      auto k = kv.substr(0, colon), v = kv.substr(colon + 1);
      int pr;
      if (k == "s" && parse_int(v, pr))
        dd_priority = pr;
      else if (k == "p" && v.size() == 16)
        c.datadog_parent_id = std::string(v);
      else if (k == "o") {
        std::string o(v);
        for (char& ch : o)
          if (ch == '~') ch = '=';
        c.origin = o;
      } else if (k.substr(0, 2) == "t.") {
        std::string val(v);
        for (char& ch : val)
          if (ch == '~') ch = '=';
        c.propagation_tags.emplace_back("_dd.p." + std::string(k.substr(2)), val);
      }
    });
  });
  c.tracestate_other = std::move(other);
  // The sampled flag wins over a contradicting dd priority (W3C/Datadog rule).
  if (dd_priority && ((sampled && *dd_priority > 0) || (!sampled && *dd_priority <= 0))) {
    c.sampling_priority = dd_priority;
  } else {
    c.sampling_priority = sampled ? 1 : 0;
  }
  return c;
}

std::string sanitize_w3c(std::string_view v, bool value) {
  std::string s(v);
  for (char& ch : s) {
    if (value && ch == '=')
      ch = '~';
    else if (ch < 0x20 || ch > 0x7e || ch == ',' || ch == ';' || ch == '~' || ch == '=')
      ch = '_';
  }
  return s;
}

}  // namespace

TraceContext extract(const PropagationConfig& cfg, const PropagationHeaders& h) {
  auto has = [&](PropagationStyle s) {
    return std::find(cfg.extract.begin(), cfg.extract.end(), s) != cfg.extract.end();
  };
  std::optional<TraceContext> dd, w3c;
  if (has(PropagationStyle::datadog)) dd = extract_datadog(cfg, h);
  if (has(PropagationStyle::tracecontext)) w3c = extract_w3c(h);
  TraceContext result;
  bool datadog_won = false;
  for (PropagationStyle s : cfg.extract) {  // first style with a trace id wins
    if (s == PropagationStyle::datadog && dd) {
      result = std::move(*dd);
      datadog_won = true;
      break;
    }
    if (s == PropagationStyle::tracecontext && w3c) {
      result = std::move(*w3c);
      break;
    }
  }
  // Datadog won but W3C describes the same trace: keep its tracestate and, if the parents differ, the
  // W3C parent (the closest hop) and remember the Datadog one as _dd.parent_id.
  if (datadog_won && w3c && w3c->trace_id_low == result.trace_id_low &&
      (result.trace_id_high == 0 || result.trace_id_high == w3c->trace_id_high)) {
    result.trace_id_high = w3c->trace_id_high;
    result.tracestate_other = w3c->tracestate_other;
    if (w3c->parent_id != result.parent_id) {
      result.datadog_parent_id =
          w3c->datadog_parent_id != "0000000000000000" ? w3c->datadog_parent_id : hex16(result.parent_id);
      result.parent_id = w3c->parent_id;
    }
  }
  if (has(PropagationStyle::baggage)) result.baggage = std::string(trim(h.baggage));
  return result;
}

std::vector<std::pair<std::string_view, std::string>> inject(const PropagationConfig& cfg,
                                                             const TraceContext& c) {
  std::vector<std::pair<std::string_view, std::string>> out;
  if (!c.valid()) return out;
  const int priority = c.sampling_priority.value_or(1);
  for (PropagationStyle s : cfg.inject) {
    if (s == PropagationStyle::datadog) {
      out.emplace_back("x-datadog-trace-id", std::to_string(c.trace_id_low));
      out.emplace_back("x-datadog-parent-id", std::to_string(c.parent_id));
      out.emplace_back("x-datadog-sampling-priority", std::to_string(priority));
      if (!c.origin.empty()) out.emplace_back("x-datadog-origin", c.origin);
      std::string tags;
      for (const auto& [k, v] : c.propagation_tags) {
        if (!tags.empty()) tags += ',';
        tags += k + '=' + v;
      }
      if (c.trace_id_high)
        tags += (tags.empty() ? "" : ",") + std::string("_dd.p.tid=") + hex16(c.trace_id_high);
      if (!tags.empty() && tags.size() <= cfg.tags_max_length)
        out.emplace_back("x-datadog-tags", std::move(tags));
    } else if (s == PropagationStyle::tracecontext) {
      out.emplace_back("traceparent", "00-" + hex16(c.trace_id_high) + hex16(c.trace_id_low) + '-' +
                                          hex16(c.parent_id) + (priority > 0 ? "-01" : "-00"));
      std::string dd = "dd=s:" + std::to_string(priority) + ";p:" + hex16(c.parent_id);
      if (!c.origin.empty()) dd += ";o:" + sanitize_w3c(c.origin, true);
      for (const auto& [k, v] : c.propagation_tags) {
        if (k.size() <= 6) continue;
        std::string member =
            ";t." + sanitize_w3c(std::string_view(k).substr(6), false) + ':' + sanitize_w3c(v, true);
        if (dd.size() + member.size() > 256) break;  // truncate at a ';' boundary
        dd += member;
      }
      if (!c.tracestate_other.empty()) dd += ',' + c.tracestate_other;
      out.emplace_back("tracestate", std::move(dd));
    } else if (s == PropagationStyle::baggage && !c.baggage.empty()) {
      out.emplace_back("baggage", c.baggage);
    }
  }
  return out;
}

PropagationConfig PropagationConfig::from_env(const EnvFn& env) {
  PropagationConfig cfg;
  auto parse = [](const char* v) {
    std::vector<PropagationStyle> styles;
    std::string s(v);
    for (char& ch : s)
      ch = (ch == ' ') ? ',' : static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    split(s, ',', [&](std::string_view name) {
      std::optional<PropagationStyle> st;
      if (name == "datadog")
        st = PropagationStyle::datadog;
      else if (name == "tracecontext")
        st = PropagationStyle::tracecontext;
      else if (name == "baggage")
        st = PropagationStyle::baggage;
      if (st && std::find(styles.begin(), styles.end(), *st) == styles.end()) styles.push_back(*st);
    });
    return styles;
  };
  if (const char* v = env("DD_TRACE_PROPAGATION_STYLE")) cfg.extract = cfg.inject = parse(v);
  if (const char* v = env("DD_TRACE_PROPAGATION_STYLE_EXTRACT")) cfg.extract = parse(v);
  if (const char* v = env("DD_TRACE_PROPAGATION_STYLE_INJECT")) cfg.inject = parse(v);
  std::size_t max;
  if (const char* v = env("DD_TRACE_X_DATADOG_TAGS_MAX_LENGTH"); v && parse_int(std::string_view(v), max))
    cfg.tags_max_length = max;
  return cfg;
}

}  // namespace gw::telemetry
