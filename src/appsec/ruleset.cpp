// Loads a whole ruleset document: rules and custom_rules, rules_data, actions, exclusions; builds the
// multi-pattern scans (scan.cpp); reports what loaded (docs/datadog-appsec.md sections 2, 8-10).
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "appsec/engine.h"

namespace gw::appsec {

namespace {

const std::string* string_member(const json::Value& v, std::string_view key) {
  const json::Value* m = v.find(key);
  return m && m->is_string() ? &m->as_string() : nullptr;
}

std::string position(std::string_view text, std::size_t offset) {
  auto [line, col] = json::line_column(text, offset);
  return "line " + std::to_string(line) + ", column " + std::to_string(col);
}

// libddwaf's predefined actions, usable without declaring them.
void add_default_actions(std::unordered_map<std::string, Action>& actions) {
  Action block;
  block.kind = Action::Kind::block;
  actions.emplace("block", block);
}

Action parse_action(const std::string& type, const json::Value* params) {
  Action a;
  auto number = [&](std::string_view key) -> std::optional<unsigned> {
    const json::Value* v = params ? params->find(key) : nullptr;
    if (!v) return std::nullopt;
    std::string text = v->is_number() ? v->number_text() : v->is_string() ? v->as_string() : "";
    unsigned n = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
    return n;
  };
  if (type == "block_request") {
    a.kind = Action::Kind::block;
    auto status = number("status_code");
    a.status = status && *status >= 100 && *status <= 599 ? *status : 403;
    const std::string* t = params ? string_member(*params, "type") : nullptr;
    if (t && *t == "json") a.type = Action::Type::json;
    if (t && *t == "html") a.type = Action::Type::html;
    if (t && *t == "none") a.type = Action::Type::none;
  } else if (type == "redirect_request") {
    const std::string* location = params ? string_member(*params, "location") : nullptr;
    const bool usable = location && (location->starts_with("/") || location->starts_with("http://") ||
                                     location->starts_with("https://"));
    if (!usable) {  // libddwaf downgrades it to the default block
      a.kind = Action::Kind::block;
      return a;
    }
    a.kind = Action::Kind::redirect;
    a.location = *location;
    auto status = number("status_code");
    a.status =
        status && (*status == 301 || *status == 302 || *status == 303 || *status == 307) ? *status : 303;
  }
  return a;  // other types never stop a request
}

bool in_version_window(const json::Value& rule) {
  // The libddwaf feature level rule windows are compared with: the operators, transformers and
  // addresses built here are libddwaf 1.24's minus RASP.
  auto parse = [](const std::string* v) -> std::optional<std::array<int, 3>> {
    if (!v) return std::nullopt;
    std::array<int, 3> out{};
    if (std::sscanf(v->c_str(), "%d.%d.%d", &out[0], &out[1], &out[2]) != 3) return std::nullopt;
    return out;
  };
  constexpr std::array<int, 3> kLevel{1, 24, 1};
  if (auto min = parse(string_member(rule, "min_version")); min && kLevel < *min) return false;
  if (auto max = parse(string_member(rule, "max_version")); max && kLevel > *max) return false;
  return true;
}

class Loader {
 public:
  Loader(Waf::Impl& waf, std::string_view text, const std::string& source)
      : waf_(waf), text_(text), source_(source) {}

  [[noreturn]] void refuse(const json::Value* where, const std::string& path, const std::string& message) {
    std::string at = where ? ", " + position(text_, where->offset()) : "";
    throw LoadError("AppSec rules '" + source_ + "'" + at + ", field '" + path + "': " + message);
  }

  void load(const json::Value& doc) {
    if (!doc.is_object()) refuse(&doc, "$", "the ruleset must be a JSON object");
    const std::string* version = string_member(doc, "version");
    if (!version || !version->starts_with("2.")) refuse(doc.find("version"), "version", "must be \"2.x\"");
    if (const json::Value* md = doc.find("metadata"); md && md->is_object())
      if (const std::string* rv = string_member(*md, "rules_version")) waf_.info.rules_version = *rv;
    for (const auto& [key, value] : doc.as_object()) {
      if (key == "version" || key == "metadata") continue;
      if (key == "rules" || key == "custom_rules" || key == "rules_data" || key == "actions" ||
          key == "exclusions") {
        if (!value.is_array()) refuse(&value, key, "must be an array");
        continue;
      }
      waf_.info.ignored_sections.push_back(key);
    }
    if (!doc.find("rules") && !doc.find("custom_rules"))
      refuse(&doc, "rules", "missing: a ruleset needs rules");
    add_default_actions(waf_.actions);
    if (const json::Value* a = doc.find("actions")) load_actions(*a);
    if (const json::Value* d = doc.find("rules_data")) load_data(*d);
    if (const json::Value* c = doc.find("custom_rules")) load_rules(*c);
    if (const json::Value* r = doc.find("rules")) load_rules(*r);
    if (const json::Value* e = doc.find("exclusions")) load_exclusions(*e);
  }

 private:
  void load_actions(const json::Value& list) {
    for (const auto& a : list.as_array()) {
      const std::string* id = a.is_object() ? string_member(a, "id") : nullptr;
      const std::string* type = id ? string_member(a, "type") : nullptr;
      if (!type) continue;  // libddwaf skips malformed actions
      waf_.actions[*id] = parse_action(*type, a.find("parameters"));
    }
  }

  void load_data(const json::Value& list) {
    for (const auto& d : list.as_array()) {
      const std::string* id = d.is_object() ? string_member(d, "id") : nullptr;
      const std::string* type = id ? string_member(d, "type") : nullptr;
      const json::Value* data = type ? d.find("data") : nullptr;
      if (!data || !data->is_array()) continue;
      DataSet& set = waf_.data[*id];
      set.type = *type;
      for (const auto& e : data->as_array()) {
        const std::string* value = e.is_object() ? string_member(e, "value") : nullptr;
        if (!value) continue;
        std::uint64_t expiration = 0;
        if (const json::Value* x = e.find("expiration"); x && x->is_number())
          std::from_chars(x->number_text().data(), x->number_text().data() + x->number_text().size(),
                          expiration);
        if (*type == "ip_with_expiration") {
          if (auto range = parse_ip_range(*value)) set.ranges.emplace_back(*range, expiration);
        } else {
          set.values[*value] = expiration;
        }
      }
    }
  }

  void fail(const std::string& id, const std::string& message) {
    ++waf_.info.failed;
    waf_.info.errors[message].push_back(id);
  }

  void load_rules(const json::Value& list) {
    for (const auto& r : list.as_array()) {
      const std::string* id = r.is_object() ? string_member(r, "id") : nullptr;
      if (!id) {
        fail("<no id>", "rule without a string 'id'");
        continue;
      }
      if (!seen_.insert(*id).second) {
        fail(*id, "duplicate rule");
        continue;
      }
      if (const json::Value* en = r.find("enabled"); en && en->is_bool() && !en->as_bool()) {
        ++waf_.info.skipped;
        continue;
      }
      if (!in_version_window(r)) {
        ++waf_.info.skipped;
        continue;
      }
      try {
        waf_.rules.push_back(compile_rule(r, *id));
        ++waf_.info.loaded;
      } catch (const std::string& message) {
        fail(*id, message);
      }
    }
  }

  Rule compile_rule(const json::Value& r, const std::string& id) {
    Rule rule;
    rule.id = id;
    if (const std::string* name = string_member(r, "name")) rule.name = *name;
    const json::Value* tags = r.find("tags");
    if (!tags || !tags->is_object()) throw std::string("rule without 'tags'");
    for (const auto& [k, v] : tags->as_object())
      if (v.is_string()) rule.tags.emplace_back(k, v.as_string());
    const std::string* type = string_member(*tags, "type");
    if (!type) throw std::string("rule without tags.type");
    rule.type = *type;
    if (const std::string* category = string_member(*tags, "category")) rule.category = *category;
    bool keys_only = false;
    std::vector<detail::Transformer> transformers;
    if (const json::Value* t = r.find("transformers")) transformers = parse_transformers(*t, keys_only);
    const json::Value* conditions = r.find("conditions");
    if (!conditions || !conditions->is_array() || conditions->as_array().empty())
      throw std::string("rule without 'conditions'");
    for (const auto& c : conditions->as_array()) {
      rule.conditions.push_back(compile_condition(c, transformers, keys_only));
      if (rule.conditions.back().response_phase) rule.has_response_phase = true;
    }
    if (const json::Value* om = r.find("on_match"); om && om->is_array())
      for (const auto& a : om->as_array())
        if (a.is_string()) rule.on_match.push_back(a.as_string());
    rule.action = blocking_action(rule.on_match);
    return rule;
  }

  std::optional<Action> blocking_action(const std::vector<std::string>& ids) const {
    for (const auto& id : ids) {
      auto it = waf_.actions.find(id);
      if (it != waf_.actions.end() && it->second.kind != Action::Kind::none) return it->second;
    }
    return std::nullopt;
  }

  void load_exclusions(const json::Value& list) {
    for (const auto& e : list.as_array()) {
      const std::string* id = e.is_object() ? string_member(e, "id") : nullptr;
      if (!id) continue;
      try {
        waf_.exclusions.push_back(compile_exclusion(e, *id));
      } catch (const std::string&) {
        // libddwaf reports filter errors apart from rules; they are not rules, so not counted here.
      }
    }
  }

  Exclusion compile_exclusion(const json::Value& e, const std::string& id) {
    Exclusion x;
    x.id = id;
    if (const json::Value* targets = e.find("rules_target"); targets && targets->is_array()) {
      for (const auto& t : targets->as_array()) {
        if (const std::string* rule_id = t.is_object() ? string_member(t, "rule_id") : nullptr) {
          x.rule_ids.push_back(*rule_id);
        } else if (const json::Value* tags = t.is_object() ? t.find("tags") : nullptr;
                   tags && tags->is_object()) {
          std::vector<std::pair<std::string, std::string>> want;
          for (const auto& [k, v] : tags->as_object())
            if (v.is_string()) want.emplace_back(k, v.as_string());
          x.tag_targets.push_back(std::move(want));
        }
      }
    }
    if (const json::Value* conditions = e.find("conditions"); conditions && conditions->is_array())
      for (const auto& c : conditions->as_array()) x.conditions.push_back(compile_condition(c, {}, false));
    if (const json::Value* inputs = e.find("inputs"); inputs && inputs->is_array()) {
      json::Value probe = json::Value::object();  // inputs share the condition syntax
      probe.set("operator", "exists");
      json::Value params = json::Value::object();
      params.set("inputs", *inputs);
      probe.set("parameters", std::move(params));
      x.inputs = compile_condition(probe, {}, false).inputs;
    }
    if (x.inputs.empty() && x.conditions.empty() && x.rule_ids.empty() && x.tag_targets.empty())
      throw std::string("an exclusion needs conditions, inputs or targets");
    if (const std::string* mode = string_member(e, "on_match"); mode && *mode != "bypass") {
      if (*mode == "monitor") {
        x.mode = Exclusion::Mode::monitor;
      } else if (auto it = waf_.actions.find(*mode); it != waf_.actions.end()) {
        x.mode = Exclusion::Mode::action;
        x.action = it->second;
      }
    }
    return x;
  }

  Waf::Impl& waf_;
  std::string_view text_;
  const std::string& source_;
  std::unordered_set<std::string> seen_;
};

}  // namespace

bool Exclusion::targets(const Rule& r) const {
  if (rule_ids.empty() && tag_targets.empty()) return true;
  for (const auto& id : rule_ids)
    if (id == r.id) return true;
  for (const auto& want : tag_targets) {
    bool all = true;
    for (const auto& [k, v] : want)
      all = all && std::find(r.tags.begin(), r.tags.end(), std::pair(k, v)) != r.tags.end();
    if (all) return true;
  }
  return false;
}

std::string RulesetInfo::errors_json() const {
  json::Value out = json::Value::object();
  for (const auto& [message, ids] : errors) {
    json::Array list;
    for (const auto& id : ids) list.emplace_back(id);
    out.set(message, json::Value(std::move(list)));
  }
  return json::encode(out);
}

Waf::Waf(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Waf::~Waf() = default;
const RulesetInfo& Waf::info() const { return impl_->info; }
const Settings& Waf::settings() const { return impl_->settings; }

std::vector<std::string> Waf::rule_types() const {
  std::vector<std::string> types;
  for (const auto& r : impl_->rules)
    if (std::find(types.begin(), types.end(), r.type) == types.end()) types.push_back(r.type);
  return types;
}

std::shared_ptr<const Waf> Waf::compile(std::string_view text, const std::string& source,
                                        const Settings& settings) {
  auto impl = std::make_unique<Impl>();
  impl->settings = settings;
  json::ParseError error;
  auto doc = json::parse(text, &error, json::ParseOptions{.allow_trailing = false, .max_depth = 64});
  if (!doc)
    throw LoadError("AppSec rules '" + source + "': line " + std::to_string(error.line) + ", column " +
                    std::to_string(error.column) + ": " + error.message);
  Loader(*impl, text, source).load(*doc);
  build_scans(*impl);
  auto obfuscator = [&](const std::optional<std::string>& configured, std::string_view fallback,
                        const char* variable) -> std::unique_ptr<RE2> {
    const std::string pattern = configured ? *configured : std::string(fallback);
    if (pattern.empty()) return nullptr;
    RE2::Options o;
    o.set_case_sensitive(false);
    o.set_log_errors(false);
    auto re = std::make_unique<RE2>(pattern, o);
    if (!re->ok()) throw LoadError(std::string(variable) + ": invalid regular expression: " + re->error());
    return re;
  };
  impl->key_obfuscator = obfuscator(settings.key_regex, detail::default_key_regex(),
                                    "DD_APPSEC_OBFUSCATION_PARAMETER_KEY_REGEXP");
  impl->value_obfuscator = obfuscator(settings.value_regex, detail::default_value_regex(),
                                      "DD_APPSEC_OBFUSCATION_PARAMETER_VALUE_REGEXP");
  return std::shared_ptr<const Waf>(new Waf(std::move(impl)));
}

std::shared_ptr<const Waf> Waf::load(const Settings& settings) {
  if (settings.rules_path.empty()) return compile(builtin_rules(), "built-in", settings);
  std::ifstream in(settings.rules_path, std::ios::binary);
  if (!in)
    throw LoadError("DD_APPSEC_RULES: cannot read '" + settings.rules_path + "': " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return compile(text.str(), settings.rules_path, settings);
}

}  // namespace gw::appsec
