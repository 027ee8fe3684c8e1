// SQL injection test in the spirit of libinjection, designed independently: a small SQL lexer, a
// folding step, and a handful of structural shapes of injections checked over the first tokens.
// The value is lexed three times, as an injection can start in three places of the original
// query: in code (as is), or inside a '...' or "..." literal (then the first token is the rest of
// that literal, up to the quote that closes it).
#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "appsec/detail.h"
#include "appsec/text_util.h"

namespace gw::appsec::detail {
namespace {

using namespace text;

// Token classes, one letter each as in libinjection fingerprints.
constexpr char kString = 's', kNumber = '1', kKeyword = 'k', kUnion = 'U', kVerb = 'E', kOperator = 'o',
               kLogic = '&', kComment = 'c', kFunction = 'f', kBareword = 'n', kVariable = 'v', kOpen = '(',
               kClose = ')', kSemicolon = ';', kComma = ',', kOrderBy = 'B', kNot = 'N', kOther = '?';

struct Token {
  char type = kOther;
  std::string_view text;
  bool comparison = false;  // an operator that makes a boolean (= < like ...)
};

constexpr std::size_t kMaxTokens = 64;  // lexing stops there: shapes only look at the start
constexpr std::size_t kWindow = 8;      // folded tokens the shapes look at
constexpr std::size_t kFingerprint = 5;

bool in(std::string_view word, std::initializer_list<std::string_view> list) {
  for (std::string_view w : list) {
    if (w == word) return true;
  }
  return false;
}

bool is_word_char(char c) {
  return is_alnum(c) || c == '_' || c == '$' || c == '.' || static_cast<unsigned char>(c) >= 0x80;
}

// Functions recognised even when a space separates them from '('.
bool known_function(std::string_view w) {
  return in(w, {"sleep",
                "benchmark",
                "pg_sleep",
                "char",
                "chr",
                "nchar",
                "concat",
                "concat_ws",
                "group_concat",
                "ascii",
                "ord",
                "hex",
                "unhex",
                "substring",
                "substr",
                "mid",
                "version",
                "user",
                "current_user",
                "database",
                "schema",
                "load_file",
                "extractvalue",
                "updatexml",
                "if",
                "ifnull",
                "count",
                "cast",
                "convert",
                "md5",
                "rand",
                "floor",
                "exp",
                "randomblob",
                "name_const",
                "coalesce",
                "elt",
                "dbms_lock.sleep",
                "dbms_pipe.receive_message",
                "utl_inaddr.get_host_address",
                "xp_cmdshell",
                "db_name",
                "length"});
}

// Calls that only an attack makes: time delays (given a literal argument) and error/exfiltration
// primitives.
bool delay_function(std::string_view w) {
  return in(w, {"sleep", "pg_sleep", "benchmark", "dbms_lock.sleep"});
}
bool attack_function(std::string_view w) {
  return in(w, {"extractvalue", "updatexml", "load_file", "name_const", "dbms_pipe.receive_message",
                "utl_inaddr.get_host_address", "xp_cmdshell"});
}

Token classify_word(std::string_view text, bool call) {
  Token t{kBareword, text};
  if (text.size() > 32) return t;
  std::array<char, 32> buf{};
  for (std::size_t k = 0; k < text.size(); ++k) buf[k] = to_lower(text[k]);
  const std::string_view w(buf.data(), text.size());
  if (call && known_function(w)) {
    t.type = kFunction;
  } else if (in(w, {"and", "or", "xor"})) {
    t.type = kLogic;
  } else if (w == "not") {
    t.type = kNot;
  } else if (w == "union") {
    t.type = kUnion;
  } else if (in(w, {"select", "insert", "update", "delete", "drop", "create", "alter", "truncate", "exec",
                    "execute", "declare", "shutdown"})) {
    t.type = kVerb;
  } else if (in(w, {"null", "true", "false"})) {
    t.type = kNumber;
  } else if (in(w, {"like", "rlike", "regexp", "is", "sounds"})) {
    t.type = kOperator, t.comparison = true;
  } else if (in(w, {"div", "mod"})) {
    t.type = kOperator;
  } else if (in(w, {"from",      "where",   "into",   "values",   "table",   "database", "schema",
                    "procedure", "view",    "index",  "function", "trigger", "set",      "all",
                    "distinct",  "waitfor", "delay",  "limit",    "having",  "offset",   "top",
                    "in",        "between", "exists", "case",     "when",    "then",     "else",
                    "end",       "as",      "join",   "order",    "group",   "by"})) {
    t.type = kKeyword;
  } else if (call) {
    t.type = kFunction;  // any word glued to '('
  }
  return t;
}

// End of a quoted literal whose content starts at i: after the closing quote, or the end. A
// doubled quote and a backslash escape don't close it.
std::size_t string_end(std::string_view s, std::size_t i, char quote) {
  while (i < s.size()) {
    if (s[i] == '\\') {
      i += 2;
    } else if (s[i] == quote) {
      if (i + 1 < s.size() && s[i + 1] == quote) {
        i += 2;
      } else {
        return i + 1;
      }
    } else {
      ++i;
    }
  }
  return s.size();
}

std::size_t number_end(std::string_view s, std::size_t i) {
  if (s[i] == '-' || s[i] == '+') ++i;
  if (s[i] == '0' && i + 2 < s.size() && (s[i + 1] | 0x20) == 'x' && is_hex(s[i + 2])) {
    for (i += 2; i < s.size() && is_hex(s[i]);) ++i;
    return i;
  }
  while (i < s.size() && is_digit(s[i])) ++i;
  if (i < s.size() && s[i] == '.') {
    for (++i; i < s.size() && is_digit(s[i]);) ++i;
  }
  if (i + 1 < s.size() && (s[i] | 0x20) == 'e' &&
      (is_digit(s[i + 1]) ||
       ((s[i + 1] == '-' || s[i + 1] == '+') && i + 2 < s.size() && is_digit(s[i + 2])))) {
    for (i += 2; i < s.size() && is_digit(s[i]);) ++i;
  }
  return i;
}

std::size_t operator_length(std::string_view rest) {
  for (std::string_view op : {"<=>", "<>", "!=", "<=", ">=", "==", "||", "&&", ":=", "<<", ">>"}) {
    if (rest.starts_with(op)) return op.size();
  }
  return 1;
}

bool is_value(char type) {
  return type == kString || type == kNumber || type == kBareword || type == kVariable || type == kFunction;
}

class Lexer {
 public:
  Lexer(std::string_view s, char quote) : s_(s) {
    if (quote != 0) {  // the rest of the literal the value was placed in
      i_ = string_end(s_, 0, quote);
      push(kString, 0);
    }
  }

  std::vector<Token> run() {
    while (i_ < s_.size() && tokens_.size() < kMaxTokens) step();
    return std::move(tokens_);
  }

 private:
  void push(char type, std::size_t start) { tokens_.push_back(Token{type, s_.substr(start, i_ - start)}); }

  bool previous_is_value() const {
    return !tokens_.empty() && (is_value(tokens_.back().type) || tokens_.back().type == kClose);
  }

  void line_comment(std::size_t start) {
    const std::size_t eol = s_.find('\n', i_);
    i_ = eol == std::string_view::npos ? s_.size() : eol;
    push(kComment, start);
  }

  void step() {
    const std::size_t start = i_;
    const char c = s_[i_];
    const std::string_view rest = s_.substr(i_);
    const bool digit_next = rest.size() > 1 && is_digit(rest[1]);
    if (is_space(c) || c == '\0') {
      ++i_;
    } else if (c == '\'' || c == '"') {
      i_ = string_end(s_, i_ + 1, c);
      push(kString, start);
    } else if (c == '`') {  // quoted identifier
      const std::size_t end = s_.find('`', i_ + 1);
      i_ = end == std::string_view::npos ? s_.size() : end + 1;
      push(kBareword, start);
    } else if (rest.starts_with("/*!")) {  // MySQL executable comment: its content is code
      for (i_ += 3; i_ < s_.size() && is_digit(s_[i_]);) ++i_;
    } else if (rest.starts_with("*/")) {
      i_ += 2;
    } else if (rest.starts_with("/*")) {
      const std::size_t end = s_.find("*/", i_ + 2);
      i_ = end == std::string_view::npos ? s_.size() : end + 2;
      push(kComment, start);
    } else if (rest.starts_with("--") || c == '#') {
      line_comment(start);
    } else if (is_digit(c) ||
               ((c == '.' || ((c == '-' || c == '+') && !previous_is_value())) && digit_next)) {
      i_ = number_end(s_, i_);
      if (i_ < s_.size() && is_word_char(s_[i_]) && s_[i_] != '.') {  // "12ab": a word, not a number
        while (i_ < s_.size() && is_word_char(s_[i_])) ++i_;
        push(kBareword, start);
      } else {
        push(kNumber, start);
      }
    } else if (c == '@') {
      for (++i_; i_ < s_.size() && (s_[i_] == '@' || is_word_char(s_[i_]));) ++i_;
      push(kVariable, start);
    } else if (is_word_char(c)) {
      word(start);
    } else if (c == '(' || c == ')' || c == ';' || c == ',') {
      ++i_;
      push(c, start);
    } else if (std::string_view("=<>!+-*/%^|&~:").find(c) != std::string_view::npos) {
      i_ += operator_length(rest);
      const std::string_view op = s_.substr(start, i_ - start);
      const bool logic = op == "||" || op == "&&";
      push(logic ? kLogic : kOperator, start);
      tokens_.back().comparison = !logic && std::string_view("=<>!").find(op[0]) != std::string_view::npos;
    } else {
      ++i_;
      push(kOther, start);
    }
  }

  void word(std::size_t start) {
    while (i_ < s_.size() && is_word_char(s_[i_])) ++i_;
    std::size_t after = i_;
    while (after < s_.size() && is_space(s_[after])) ++after;
    const bool glued = i_ < s_.size() && s_[i_] == '(';
    const std::string_view text = s_.substr(start, i_ - start);
    Token t = classify_word(text, after < s_.size() && s_[after] == '(');
    if (t.type == kFunction && !glued && !known_function_lower(text)) t.type = kBareword;
    tokens_.push_back(t);
  }

  static bool known_function_lower(std::string_view text) {
    std::string lower(text.substr(0, 32));
    for (char& ch : lower) ch = to_lower(ch);
    return known_function(lower);
  }

  std::string_view s_;
  std::size_t i_ = 0;
  std::vector<Token> tokens_;
};

// Whether the raw tokens hold a time delay with a literal argument, `waitfor delay '...'`, or an
// attack-only function call.
bool has_attack_call(const std::vector<Token>& raw) {
  for (std::size_t k = 0; k + 1 < raw.size(); ++k) {
    std::string lower(raw[k].text.substr(0, 32));
    for (char& ch : lower) ch = to_lower(ch);
    if (raw[k].type == kFunction && raw[k + 1].type == kOpen) {
      if (attack_function(lower)) return true;
      if (delay_function(lower) && k + 2 < raw.size() && raw[k + 2].type == kNumber) return true;
    }
    if (lower == "waitfor" && k + 2 < raw.size() &&
        (iequals(raw[k + 1].text, "delay") || iequals(raw[k + 1].text, "time")) &&
        raw[k + 2].type == kString) {
      return true;
    }
  }
  return false;
}

// Folding: inline comments vanish, a call with its arguments becomes one value, `order by` and
// `group by` become one token, `union all` is a union, a `not` after a logic operator is dropped.
std::vector<Token> fold(const std::vector<Token>& raw, bool& complete) {
  std::vector<Token> out;
  std::size_t k = 0;
  for (; k < raw.size() && out.size() <= kWindow; ++k) {
    const Token& t = raw[k];
    const char last = out.empty() ? 0 : out.back().type;
    if (t.type == kComment && k + 1 < raw.size()) continue;
    if (t.type == kNot && (last == 0 || last == kLogic || last == kOpen || last == kOperator)) continue;
    if (t.type == kKeyword && iequals(t.text, "by") && last == kKeyword &&
        (iequals(out.back().text, "order") || iequals(out.back().text, "group"))) {
      out.back().type = kOrderBy;
      continue;
    }
    if (t.type == kKeyword && last == kUnion && (iequals(t.text, "all") || iequals(t.text, "distinct")))
      continue;
    out.push_back(t);
    if (t.type == kFunction && k + 1 < raw.size() && raw[k + 1].type == kOpen) {
      int depth = 0;
      for (++k; k < raw.size(); ++k) {
        depth += raw[k].type == kOpen ? 1 : raw[k].type == kClose ? -1 : 0;
        if (depth == 0) break;
      }
    }
  }
  complete = k >= raw.size() && raw.size() < kMaxTokens && out.size() <= kWindow;
  if (out.size() > kWindow) out.resize(kWindow);
  return out;
}

// The shapes, over the folded tokens of one context.
class Shapes {
 public:
  Shapes(const std::vector<Token>& t, bool complete, bool quoted)
      : t_(t), complete_(complete), quoted_(quoted) {}

  bool any() const {
    for (std::size_t i = 0; i < t_.size(); ++i) {
      if (tautology(i) || logic_then_end(i) || union_select(i) || stacked(i) || subquery(i) || order_by(i)) {
        return true;
      }
    }
    return truncation() || statement_at_start();
  }

 private:
  char type(std::size_t i) const { return i < t_.size() ? t_[i].type : 0; }
  bool is(std::size_t i, std::string_view word) const { return i < t_.size() && iequals(t_[i].text, word); }
  // Past the last token, and the value really ends there (not just the window).
  bool at_end(std::size_t i) const { return i >= t_.size() && complete_; }
  bool ends_statement(std::size_t i) const {
    return at_end(i) || type(i) == kComment || type(i) == kSemicolon;
  }
  std::size_t skip_open(std::size_t i) const {
    while (type(i) == kOpen) ++i;
    return i;
  }
  bool left_operand(std::size_t i) const { return i == 0 || is_value(type(i - 1)) || type(i - 1) == kClose; }

  // `x or 1=1`, `' or 'a'='a`, `) and (a=a`: a logic operator, then a comparison of two values.
  // Two different plain words compared (`tom and jerry=fun`) don't count.
  bool tautology(std::size_t i) const {
    if (type(i) != kLogic || !left_operand(i)) return false;
    const std::size_t a = skip_open(i + 1);
    if (!is_value(type(a)) || type(a + 1) != kOperator || !t_[a + 1].comparison) return false;
    const std::size_t b = skip_open(a + 2);
    if (!is_value(type(b))) return false;
    if (type(a) == kBareword && type(b) == kBareword && !iequals(t_[a].text, t_[b].text)) return false;
    // A plain word compared with a literal reads as prose ("x > 3 and y < 5 means ..."): it counts
    // after a quote, or when the comparison ends the statement.
    const bool word = type(a) == kBareword || type(b) == kBareword;
    return !word || quoted_ || ends_statement(b + 1);
  }

  // `' or 1--`, `' or '1`, `1 and 1#`: a logic operator and a literal that end the statement. Plain
  // words are not enough (`parents' or guardians'`); without a comment, only right after the quote.
  bool logic_then_end(std::size_t i) const {
    if (type(i) != kLogic || !left_operand(i)) return false;
    const char v = type(i + 1);
    if (v == kBareword) return type(i + 2) == kComment;
    if (!is_value(v)) return false;
    return type(i + 2) == kComment || (quoted_ && i <= 2 && ends_statement(i + 2));
  }

  // What may follow SELECT in an injected statement: literals, calls, `*`, or a column list.
  bool select_list(std::size_t i) const {
    const char v = type(i);
    if (v == kNumber || v == kString || v == kVariable || v == kFunction || v == kOpen) return true;
    if (v == kOperator && t_[i].text == "*") return true;
    return v == kBareword && (type(i + 1) == kComma || is(i + 1, "from"));
  }

  bool union_select(std::size_t i) const {
    if (type(i) != kUnion) return false;
    const std::size_t s = skip_open(i + 1);
    return type(s) == kVerb && is(s, "select") && select_list(s + 1);
  }

  // The head of a statement starting at i.
  bool statement(std::size_t i) const {
    if (type(i) != kVerb) return false;
    if (is(i, "select")) return select_list(i + 1);
    if (is(i, "insert")) return is(i + 1, "into");
    if (is(i, "update")) return type(i + 1) == kBareword && is(i + 2, "set");
    if (is(i, "delete")) return is(i + 1, "from");
    if (is(i, "exec") || is(i, "execute")) {
      const char v = type(i + 1);
      return v == kBareword || v == kFunction || v == kOpen || v == kVariable;
    }
    if (is(i, "declare")) return type(i + 1) == kVariable;
    if (is(i, "shutdown")) return ends_statement(i + 1);
    for (std::string_view object :
         {"table", "database", "schema", "procedure", "view", "index", "function", "trigger", "user"}) {
      if (is(i + 1, object)) return true;  // drop / create / alter / truncate
    }
    return false;
  }

  bool stacked(std::size_t i) const { return type(i) == kSemicolon && i > 0 && statement(i + 1); }

  // `and (select ...)`, `= (select ...)`
  bool subquery(std::size_t i) const {
    if (type(i) != kLogic && type(i) != kOperator) return false;
    const std::size_t s = skip_open(i + 1);
    return s > i + 1 && is(s, "select");
  }

  // `1' order by 3--`: a literal, then ORDER/GROUP BY a column number.
  bool order_by(std::size_t i) const {
    const char v = type(i);
    if ((v != kString && v != kNumber && v != kClose) || type(i + 1) != kOrderBy || type(i + 2) != kNumber) {
      return false;
    }
    return ends_statement(i + 3) || type(i + 3) == kComma;
  }

  // `admin'--`, `admin')#`: the literal is closed and the rest of the query commented out.
  bool truncation() const {
    if (!quoted_) return false;
    std::size_t i = 1;
    while (type(i) == kClose) ++i;
    if (type(i) == kSemicolon) ++i;
    return type(i) == kComment;
  }

  // A whole statement as the value, only in its unmistakable forms.
  bool statement_at_start() const {
    if (quoted_ || !statement(0)) return false;
    if (is(0, "select")) {
      for (std::size_t i = 2; i < t_.size(); ++i) {
        if (is(i, "from")) return true;
      }
      return false;
    }
    if (is(0, "drop") || is(0, "create") || is(0, "alter") || is(0, "truncate")) {
      return type(2) == kBareword && ends_statement(3);
    }
    if (is(0, "exec") || is(0, "execute")) {
      return t_.size() > 1 &&
             (iequals(t_[1].text.substr(0, 3), "xp_") || iequals(t_[1].text.substr(0, 3), "sp_"));
    }
    return !is(0, "shutdown");
  }

  const std::vector<Token>& t_;
  bool complete_;
  bool quoted_;
};

std::optional<std::string> check(std::string_view value, char quote) {
  const std::vector<Token> raw = Lexer(value, quote).run();
  bool complete = false;
  const std::vector<Token> folded = fold(raw, complete);
  if (!has_attack_call(raw) && !Shapes(folded, complete, quote != 0).any()) return std::nullopt;
  std::string fingerprint;
  for (std::size_t k = 0; k < folded.size() && k < kFingerprint; ++k) fingerprint.push_back(folded[k].type);
  return fingerprint;
}

}  // namespace

// One word, number or dotted/dashed name (a UUID, a date, an email, a JWT) lexes to one token or to
// operands joined by arithmetic: no shape of an injection fits, so most values skip the lexer.
bool inert(std::string_view value) {
  for (std::size_t k = 0; k < value.size(); ++k) {
    const char c = value[k];
    const char next = k + 1 < value.size() ? value[k + 1] : '\0';
    if (is_alnum(c) || c == '_' || c == '.' || c == '@' || c == ':') continue;
    if (c == '-' && next != '-') continue;                 // "--" starts a comment
    if (c == '/' && next != '*' && next != '/') continue;  // "/*" too
    return false;
  }
  return true;
}

std::optional<std::string> sqli_fingerprint(std::string_view value) {
  if (inert(value)) return std::nullopt;
  if (auto found = check(value, 0)) return found;
  for (const char quote : {'\'', '"'}) {
    if (value.find(quote) == std::string_view::npos) continue;  // the literal would be the whole value
    if (auto found = check(value, quote)) return found;
  }
  return std::nullopt;
}

}  // namespace gw::appsec::detail
