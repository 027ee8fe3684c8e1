// Datadog (x-datadog-*) and W3C (traceparent/tracestate) extraction and injection, following the
// behaviour of dd-trace-cpp summarised in docs/datadog-compat.md §4c.
#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <cstring>

#include "telemetry/encoding.h"
#include "telemetry/tracing.h"

namespace gw::telemetry {

const char* real_env(const char* name) { return std::getenv(name); }

std::string hex16(std::uint64_t v) {
  std::string s(16, '0');
  detail::hex16_to(s.data(), v);
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
  int others = 0;
  split(h.tracestate, ',', [&](std::string_view member) {
    member = trim(member);
    if (member.empty()) return;
    if (member.substr(0, 3) != "dd=") {
      // W3C: at most 32 list-members, and ours goes first: keep the first 31 of the others.
      if (++others > 31) return;
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

using detail::CharCursor;

// Writes v with W3C tracestate's reserved characters replaced (same length as v).
void put_w3c(CharCursor& o, std::string_view v, bool value) {
  for (char ch : v) {
    if (value && ch == '=')
      ch = '~';
    else if (ch < 0x20 || ch > 0x7e || ch == ',' || ch == ';' || ch == '~' || ch == '=')
      ch = '_';
    o.put(ch);
  }
}

// An upper bound of what inject_lines_at writes for context `c`.
std::size_t inject_bound(const TraceContext& c) {
  std::size_t n = 512 + 2 * c.origin.size() + c.tracestate_other.size() + c.baggage.size();
  for (const auto& [k, v] : c.propagation_tags) n += 2 * (k.size() + v.size() + 8);
  return n;
}

// The one injection algorithm behind inject() and Tracer::inject_lines(): "name: value\r\n" lines in
// the configured order. Ids and priority come from the caller, origin / _dd.p.* tags / other
// vendors' tracestate / baggage from `c`; `local_dm` >= 0 adds _dd.p.dm=-<local_dm> after c's tags
// (the sampling decision made here). The buffer must hold inject_bound(c) bytes; returns the end.
char* inject_lines_at(char* buffer, const PropagationConfig& cfg, std::uint64_t trace_id_high,
                      std::uint64_t trace_id_low, std::uint64_t parent_id, int priority,
                      const TraceContext& c, int local_dm) {
  CharCursor o(buffer);
  if (trace_id_low == 0 && trace_id_high == 0) return o.pos();
  for (PropagationStyle s : cfg.inject) {
    if (s == PropagationStyle::datadog) {
      o.lit("x-datadog-trace-id: ");
      o.decimal(trace_id_low);
      o.lit("\r\nx-datadog-parent-id: ");
      o.decimal(parent_id);
      o.lit("\r\nx-datadog-sampling-priority: ");
      o.decimal(priority);
      o.lit("\r\n");
      if (!c.origin.empty()) {
        o.lit("x-datadog-origin: ");
        o.put(c.origin);
        o.lit("\r\n");
      }
      char* const line = o.pos();
      o.lit("x-datadog-tags: ");
      char* const tags = o.pos();
      for (const auto& [k, v] : c.propagation_tags) {
        if (o.pos() != tags) o.put(',');
        o.put(k);
        o.put('=');
        o.put(v);
      }
      if (local_dm >= 0) {
        if (o.pos() != tags) o.put(',');
        o.lit("_dd.p.dm=-");
        o.decimal(local_dm);
      }
      if (trace_id_high) {
        if (o.pos() != tags) o.put(',');
        o.lit("_dd.p.tid=");
        o.hex16(trace_id_high);
      }
      const auto size = static_cast<std::size_t>(o.pos() - tags);
      if (size == 0 || size > cfg.tags_max_length)
        o.rewind(line);  // nothing to send, or too long: dd-trace-cpp drops the header
      else
        o.lit("\r\n");
    } else if (s == PropagationStyle::tracecontext) {
      o.lit("traceparent: 00-");
      o.hex16(trace_id_high);
      o.hex16(trace_id_low);
      o.put('-');
      o.hex16(parent_id);
      if (priority > 0)
        o.lit("-01\r\ntracestate: dd=s:");
      else
        o.lit("-00\r\ntracestate: dd=s:");
      char* const dd = o.pos() - 5;
      o.decimal(priority);
      o.lit(";p:");
      o.hex16(parent_id);
      if (!c.origin.empty()) {
        o.lit(";o:");
        put_w3c(o, c.origin, true);
      }
      auto member = [&](std::string_view k, std::size_t value_size) {
        // ";t.<key>:<value>", truncated at a ';' boundary so the dd member stays within 256 chars
        if (k.size() <= 6) return false;
        const std::size_t size = 3 + (k.size() - 6) + 1 + value_size;
        if (static_cast<std::size_t>(o.pos() - dd) + size > 256) return false;
        o.lit(";t.");
        put_w3c(o, k.substr(6), false);
        o.put(':');
        return true;
      };
      bool room = true;
      for (const auto& [k, v] : c.propagation_tags) {
        if (k.size() <= 6) continue;
        if (!(room = member(k, v.size()))) break;
        put_w3c(o, v, true);
      }
      if (room && local_dm >= 0 && member("_dd.p.dm", local_dm < 10 ? 2 : 3)) {
        o.put('-');
        o.decimal(local_dm);
      }
      if (!c.tracestate_other.empty()) {
        o.put(',');
        o.put(c.tracestate_other);
      }
      o.lit("\r\n");
    } else if (s == PropagationStyle::baggage && !c.baggage.empty()) {
      o.lit("baggage: ");
      o.put(c.baggage);
      o.lit("\r\n");
    }
  }
  return o.pos();
}

void append_inject_lines(detail::ByteBuffer& out, const PropagationConfig& cfg, std::uint64_t trace_id_high,
                         std::uint64_t trace_id_low, std::uint64_t parent_id, int priority,
                         const TraceContext& c, int local_dm) {
  out.append(inject_bound(c), [&](CharCursor& o) {
    o.rewind(inject_lines_at(o.pos(), cfg, trace_id_high, trace_id_low, parent_id, priority, c, local_dm));
  });
}

}  // namespace

TraceContext extract(const PropagationConfig& cfg, const PropagationHeaders& h) {
  if (h.x_datadog_trace_id.empty() && h.traceparent.empty() && h.baggage.empty()) return {};  // most requests
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
  static constexpr std::string_view names[] = {"x-datadog-trace-id",
                                               "x-datadog-parent-id",
                                               "x-datadog-sampling-priority",
                                               "x-datadog-origin",
                                               "x-datadog-tags",
                                               "traceparent",
                                               "tracestate",
                                               "baggage"};
  detail::ByteBuffer lines;
  append_inject_lines(lines, cfg, c.trace_id_high, c.trace_id_low, c.parent_id,
                      c.sampling_priority.value_or(1), c, -1);
  std::vector<std::pair<std::string_view, std::string>> out;
  std::string_view rest = lines.view();
  while (!rest.empty()) {
    const std::size_t eol = rest.find("\r\n"), colon = rest.find(": ");
    const std::string_view name = rest.substr(0, colon);
    out.emplace_back(*std::find(std::begin(names), std::end(names), name),
                     std::string(rest.substr(colon + 2, eol - colon - 2)));
    rest.remove_prefix(eol + 2);
  }
  return out;
}

void Tracer::inject_lines(const Trace& t, std::size_t span, detail::ByteBuffer& out) const {
  // Same headers as inject(context_for(t, span)), without copying the context.
  append_inject_lines(out, config_.propagation, t.spans[0].trace_id_high, t.spans[0].trace_id_low,
                      t.spans[span].span_id, t.sampling_priority, t.inherited, t.local_dm);
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
