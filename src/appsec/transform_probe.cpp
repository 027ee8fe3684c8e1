// detail::may_change: what a transformer needs to see in a string to change it, found in one pass.
// Conservative: a transformer not described here (base64, ...) always runs.
#include <array>

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

// Per byte: the traits it has alone, and whether it takes part in a pair ("//", "/.", " (", ...).
struct ByteTable {
  std::array<TextTraits, 256> alone{};
  std::array<bool, 256> paired{};
  constexpr ByteTable() {
    for (int c = 0x80; c < 0x100; ++c) alone[c] = kHighByte;
    for (int c = 'A'; c <= 'Z'; ++c) alone[c] = kUpper;
    alone[0] = kNul;
    alone['%'] = alone['+'] = kPercentOrPlus;
    alone['&'] = kAmpersand;
    alone['\\'] = kBackslash | kShellQuote;
    alone['#'] = kHash;
    alone['\t'] = alone['\n'] = alone['\v'] = alone['\f'] = alone['\r'] = kOddSpace;
    alone['"'] = alone['\''] = alone['^'] = alone[','] = alone[';'] = kShellQuote;
    for (unsigned char c : {' ', '/', '.', '(', '*', '-'}) paired[c] = true;
  }
};
constexpr ByteTable kBytes;

TextTraits pair_traits(char prev, char c) {
  switch (c) {
    case ' ':
      return prev == ' ' ? kOddSpace : 0;
    case '/':
      return (prev == '/' ? kDotSegment | kComment : 0) | (prev == ' ' ? kSpaceBeforeCall : 0) |
             (prev == '.' ? kDotSegment : 0);
    case '.':
      return prev == '/' ? kDotSegment : 0;
    case '(':
      return prev == ' ' ? kSpaceBeforeCall : 0;
    case '*':
      return prev == '/' ? kComment : 0;
    case '-':
      return prev == '-' ? kComment : 0;
    default:
      return 0;
  }
}

}  // namespace

TextTraits traits_of(std::string_view s) {
  TextTraits t = kAlways;
  char prev = 0;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    t |= kBytes.alone[u];
    if (kBytes.paired[u]) t |= pair_traits(prev, c);
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
