// detail::may_change: what a transformer needs to see in a string to change it, found in one pass.
// Conservative: a transformer not described here (base64, ...) always runs.
#include "appsec/detail.h"

namespace gw::appsec::detail {

namespace {

enum : TextTraits {
  kUpper = 1u << 0,
  kNul = 1u << 1,
  kPercentOrPlus = 1u << 2,
  kAmpersand = 1u << 3,
  kBackslash = 1u << 4,
  kHighByte = 1u << 5,
  kHash = 1u << 6,
  kOddSpace = 1u << 7,          // whitespace other than single spaces
  kDotSegment = 1u << 8,        // "//", "/.", "./", or the whole value "." / ".."
  kShellQuote = 1u << 9,        // \ " ' ^ , ;
  kSpaceBeforeCall = 1u << 10,  // " /" or " ("
  kComment = 1u << 11,          // "/*", "--", "//"
  kAlways = 1u << 31,           // every string has it
};

}  // namespace

TextTraits traits_of(std::string_view s) {
  TextTraits t = kAlways;
  char prev = 0;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80) {
      t |= kHighByte;
    } else if (c >= 'A' && c <= 'Z') {
      t |= kUpper;
    } else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {  // punctuation, spaces, controls
      switch (c) {
        case '\0':
          t |= kNul;
          break;
        case '%':
        case '+':
          t |= kPercentOrPlus;
          break;
        case '&':
          t |= kAmpersand;
          break;
        case '\\':
          t |= kBackslash | kShellQuote;
          break;
        case '#':
          t |= kHash;
          break;
        case '\t':
        case '\n':
        case '\v':
        case '\f':
        case '\r':
          t |= kOddSpace;
          break;
        case ' ':
          if (prev == ' ') t |= kOddSpace;
          break;
        case '"':
        case '\'':
        case '^':
        case ',':
        case ';':
          t |= kShellQuote;
          break;
        case '/':
          if (prev == '/') t |= kDotSegment | kComment;
          if (prev == ' ') t |= kSpaceBeforeCall;
          if (prev == '.') t |= kDotSegment;
          break;
        case '.':
          if (prev == '/') t |= kDotSegment;
          break;
        case '(':
          if (prev == ' ') t |= kSpaceBeforeCall;
          break;
        case '*':
          if (prev == '/') t |= kComment;
          break;
        case '-':
          if (prev == '-') t |= kComment;
          break;
        default:
          break;
      }
    }
    prev = c;
  }
  if (s == "." || s == "..") t |= kDotSegment;
  return t;
}

TextTraits triggers(Transformer t) {
  using T = Transformer;
  switch (t) {
    case T::lowercase:
      return kUpper;
    case T::remove_nulls:
      return kNul;
    case T::compress_whitespace:
      return kOddSpace;
    case T::normalize_path:
      return kDotSegment;
    case T::normalize_path_win:
      return kDotSegment | kBackslash;
    case T::url_decode:
    case T::url_decode_iis:
      return kPercentOrPlus;
    case T::html_entity_decode:
      return kAmpersand;
    case T::js_decode:
    case T::css_decode:
      return kBackslash;
    // drops \ " ' ^, turns , ; into spaces, squeezes whitespace, lowercases
    case T::shell_unescape:
      return kUpper | kShellQuote | kOddSpace | kSpaceBeforeCall;
    case T::remove_comments:
      return kHash | kComment;
    case T::unicode_normalize:
      return kHighByte;
    default:
      return kAlways;
  }
}

bool may_change(Transformer t, std::string_view value) { return (traits_of(value) & triggers(t)) != 0; }

}  // namespace gw::appsec::detail
