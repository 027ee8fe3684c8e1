// Application security (Datadog App & API Protection): an in-process WAF that reads Datadog's rule
// format (libddwaf schema 2.x), inspects requests before any backend is called, blocks or monitors,
// and describes its events the way Datadog's tracers do (docs/datadog-appsec.md). Off unless
// DD_APPSEC_ENABLED is true: then the pipeline has no WAF stage at all.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gw::appsec {

using EnvFn = std::function<const char*(const char*)>;

// A rules file, template file or setting that cannot be used: the gateway refuses to start.
struct LoadError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// What the DD_APPSEC_* variables ask for (docs/datadog-appsec.md section 1).
struct Settings {
  bool enabled = false;                                   // DD_APPSEC_ENABLED
  std::string rules_path;                                 // DD_APPSEC_RULES; empty: the built-in ruleset
  std::chrono::microseconds waf_timeout{5000};            // DD_APPSEC_WAF_TIMEOUT (µs)
  std::optional<std::string> blocked_json, blocked_html;  // template file contents, when given
  std::optional<std::string> key_regex, value_regex;      // obfuscation; nullopt: Datadog's defaults
  double trace_rate_limit = 100;                          // DD_APPSEC_TRACE_RATE_LIMIT, traces/s
  std::string client_ip_header;                           // DD_TRACE_CLIENT_IP_HEADER, lowercased
  // Reads the environment; template files are read here. Throws LoadError.
  static Settings from_env(const EnvFn& env);
};

// What the environment asks of AppSec that this gateway will not do, one warning each: DD_APPSEC_* /
// DD_API_SECURITY_* variables it does not implement, and AppSec settings given while AppSec is off.
// `names`: the environment's variable names.
std::vector<std::string> unheeded_settings(const std::vector<std::string>& names, bool enabled);

// ---- request view ------------------------------------------------------------------------------------

struct Field {
  std::string_view name, value;
};

// What the WAF sees of one request; views into the request, valid during inspect().
struct RequestView {
  std::string_view method;
  std::string_view target;  // request-target as received: path + "?query"
  std::vector<Field> headers;
  std::vector<Field> path_params;  // the endpoint template's {params}
  std::string_view body;           // the body read so far (empty: none)
  std::string_view peer_ip;        // the TCP peer
};

// ---- client IP (docs/datadog-appsec.md section 7) ------------------------------------------------------

// The address Datadog's tracers report as http.client_ip. `header_override`: DD_TRACE_CLIENT_IP_HEADER
// (lowercase name) or empty. Returns "" when neither headers nor peer give an address.
std::string resolve_client_ip(const std::vector<Field>& headers, std::string_view peer_ip,
                              std::string_view header_override);

// ---- actions and blocking (section 9) -----------------------------------------------------------------

struct Action {
  enum class Kind : std::uint8_t { none, block, redirect };
  Kind kind = Kind::none;
  unsigned status = 403;
  enum class Type : std::uint8_t { automatic, json, html, none } type = Type::automatic;
  std::string location;  // redirect only
};

struct BlockResponse {
  unsigned status = 403;
  std::string content_type;  // empty: no body
  std::string location;      // redirects
  std::string body;
};

// The answer to a blocked request: Accept-negotiated JSON or HTML body (or none), or a redirect.
// `json_template` / `html_template`: the override files' bytes, or nullopt for Datadog's defaults.
BlockResponse block_response(const Action& action, std::string_view accept,
                             const std::optional<std::string>& json_template,
                             const std::optional<std::string>& html_template);

// ---- the WAF --------------------------------------------------------------------------------------------

// What loading a ruleset found, for the span tags _dd.appsec.event_rules.*.
struct RulesetInfo {
  std::string rules_version;  // metadata.rules_version
  unsigned loaded = 0;        // rules compiled
  unsigned failed = 0;        // rules refused (errors)
  unsigned skipped = 0;       // rules outside their min/max_version window, or disabled
  std::map<std::string, std::vector<std::string>> errors;  // message -> rule ids
  std::vector<std::string> ignored_sections;               // top-level keys not implemented
  std::string errors_json() const;                         // {"message":["id",...],...}
};

// One request's inspection: events, the action to take, timings.
struct Inspection {
  std::vector<std::string> triggers;    // each an event object of _dd.appsec.json, already encoded
  std::vector<std::string> rule_types;  // tags.type of each triggered rule (metrics)
  Action action;                        // Kind::none: let the request through
  bool timed_out = false;               // the budget ran out: later rules were not evaluated
  std::uint64_t duration_ns = 0;
  std::string client_ip;  // resolved once per request
  // The WAF's own: rules whose request conditions held, waiting for the response (rule index, the
  // rule_matches entries so far).
  std::vector<std::pair<std::uint32_t, std::string>> pending;
  bool has_events() const { return !triggers.empty(); }
  // {"triggers":[...]} for the span tag.
  std::string event_json() const;
};

class Waf {
 public:
  // Compiles a ruleset. Throws LoadError naming `source` and the JSON path when the document itself
  // is unusable (not JSON, no rules array, wrong types at the top level). Individual rules that
  // cannot be compiled are skipped and counted in info().
  static std::shared_ptr<const Waf> compile(std::string_view json_text, const std::string& source,
                                            const Settings& settings);
  // The ruleset Settings ask for: DD_APPSEC_RULES's file, else the built-in one.
  static std::shared_ptr<const Waf> load(const Settings& settings);

  ~Waf();
  const RulesetInfo& info() const;
  const Settings& settings() const;
  // Every tags.type of the loaded rules, once each (metrics label values).
  std::vector<std::string> rule_types() const;

  // Request addresses, before any backend. Stops matching when the settings' budget runs out.
  Inspection inspect_request(const RequestView& request) const;
  // server.response.status, after the response: adds any events to `inspection` (never blocks).
  void inspect_response(Inspection& inspection, unsigned status) const;

  struct Impl;

 private:
  explicit Waf(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The built-in ruleset (src/appsec/rules/default.json, compiled into the binary).
std::string_view builtin_rules();
// The WAF's version, reported as _dd.appsec.waf.version.
inline constexpr std::string_view kWafVersion = "1.0.0";

}  // namespace gw::appsec
